/**
 * OpenAI-compatible API: POST /v1/completions, POST /v1/chat/completions (both with `stream`:
 * `data: {chunk}` events, then `data: [DONE]`), GET /v1/models.
 */
import { randomUUID } from "node:crypto";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import type { EngineEvent, LlamaCppEngine } from "../../llm/llama-cpp/index.js";
import type { FinishReason } from "../../llm/port.js";
import { clientDisconnectSignal, startSse } from "../client-connection.js";
import type { EmbeddingHolder } from "../embedding-holder.js";
import { errorBody, toAppError } from "../http-errors.js";
import type { ModelHolder } from "../model-holder.js";
import { parseToolCalls, toolPromptInput } from "../openai-tools.js";
import {
  chatRequestSchema,
  completionRequestSchema,
  type ParsedOpenAiRequest,
  parseChatRequest,
  parseCompletionRequest,
} from "../schemas-openai.js";
import { type ChatDelta, createToolCallStream } from "../tool-call-stream.js";

type Kind = "completion" | "chat";

const OPENAI_FINISH_REASON: Record<FinishReason, string> = { length: "length", eos: "stop", stop: "stop" };

export function registerOpenAiRoutes(
  app: FastifyInstance,
  options: { holder: ModelHolder; startedAt: number; embeddings?: EmbeddingHolder },
): void {
  const { holder } = options;
  const typed = app.withTypeProvider<ZodTypeProvider>();
  const tags = ["OpenAI"];
  typed.post(
    "/v1/completions",
    { schema: { tags, summary: "Text completion", body: completionRequestSchema } },
    async (request, reply) => {
      const engine = holder.require();
      return respond(engine, "completion", parseCompletionRequest(request.body), request, reply);
    },
  );
  typed.post(
    "/v1/chat/completions",
    { schema: { tags, summary: "Chat completion", body: chatRequestSchema } },
    async (request, reply) => {
      const engine = holder.require();
      return respondToChat(engine, request.body, request, reply);
    },
  );
  app.get("/v1/models", { schema: { tags, summary: "The model served" } }, async () => {
    const engine = holder.require();
    return {
      object: "list",
      data: [
        {
          id: engine.modelId,
          object: "model",
          created: Math.floor(options.startedAt / 1000),
          owned_by: "llm-twin",
          meta: { max_total_tokens: engine.limits.maxTotalTokens, parallel: engine.info.parallel },
        },
        ...engine.info.adapters.map((adapter) => ({
          id: adapter.name,
          object: "model",
          created: Math.floor(options.startedAt / 1000),
          owned_by: "llm-twin",
          parent: engine.modelId,
          meta: { lora_scale: adapter.scale },
        })),
        ...embeddingModelEntries(options.embeddings, options.startedAt),
      ],
    };
  });
}

/** The embedding model's /v1/models entry, once it is loaded. */
function embeddingModelEntries(embeddings: EmbeddingHolder | undefined, startedAt: number): unknown[] {
  const served = embeddings?.model;
  if (served === undefined) return [];
  return [
    {
      id: served.name,
      object: "model",
      created: Math.floor(startedAt / 1000),
      owned_by: "llm-twin",
      meta: {
        type: "embedding",
        embedder_id: served.embedder.id,
        dimensions: served.embedder.dimensions,
        max_input_tokens: served.embedder.maxInputTokens,
        max_inputs: served.maxInputs,
      },
    },
  ];
}

/** Answers an OpenAI chat body (also sent to SageMaker's /invocations by chat clients). */
export async function respondToChat(
  engine: LlamaCppEngine,
  body: unknown,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<unknown> {
  const parsed = parseChatRequest(body);
  const input = parsed.engineRequest.input;
  if (parsed.tools === undefined || !("messages" in input)) return respond(engine, "chat", parsed, request, reply);
  // The tools go through the model's chat template when it renders them, else a system message.
  const withTools = toolPromptInput(input.messages, parsed.tools, engine.info.chatTemplateTools);
  return respond(
    engine,
    "chat",
    { ...parsed, engineRequest: { ...parsed.engineRequest, input: withTools } },
    request,
    reply,
  );
}

async function respond(
  engine: LlamaCppEngine,
  kind: Kind,
  parsed: ParsedOpenAiRequest,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<unknown> {
  const signal = clientDisconnectSignal(request, reply);
  const id = `${kind === "chat" ? "chatcmpl" : "cmpl"}-${randomUUID()}`;
  const created = Math.floor(Date.now() / 1000);
  // OpenAI clients pick a LoRA adapter by model name (as vLLM serves them).
  const adapter = engine.info.adapters.find((candidate) => candidate.name === parsed.model);
  const model = adapter?.name ?? engine.modelId;
  const engineRequest =
    adapter === undefined
      ? parsed.engineRequest
      : { ...parsed.engineRequest, parameters: { ...parsed.engineRequest.parameters, adapter: adapter.name } };
  const run = engine.run({ ...engineRequest, signal });
  if (!parsed.stream) {
    let done: Extract<EngineEvent, { type: "done" }> | undefined;
    for await (const event of run) if (event.type === "done") done = event;
    if (done === undefined) throw new Error("generation ended without a result");
    const text = (parsed.echoPrompt ?? "") + done.generatedText;
    const toolCalls = parsed.tools === undefined ? undefined : parseToolCalls(text, parsed.tools);
    const choice =
      kind !== "chat"
        ? { index: 0, text, logprobs: null }
        : toolCalls === undefined
          ? { index: 0, message: { role: "assistant", content: text }, logprobs: null }
          : { index: 0, message: { role: "assistant", content: null, tool_calls: toolCalls }, logprobs: null };
    const finishReason = toolCalls === undefined ? OPENAI_FINISH_REASON[done.finishReason] : "tool_calls";
    return reply.send({
      id,
      object: kind === "chat" ? "chat.completion" : "text_completion",
      created,
      model,
      choices: [{ ...choice, finish_reason: finishReason }],
      usage: usage(done),
    });
  }

  const first = await run.next();
  const sse = startSse(reply, "data: ");
  const object = kind === "chat" ? "chat.completion.chunk" : "text_completion";
  const chunk = (delta: string | ChatDelta | null, finishReason: string | null, role?: string): string => {
    const choice =
      kind === "chat"
        ? {
            index: 0,
            delta:
              delta === null
                ? {}
                : typeof delta !== "string"
                  ? delta
                  : role === undefined
                    ? { content: delta }
                    : { role, content: delta },
          }
        : { index: 0, text: typeof delta === "string" ? delta : "" };
    return JSON.stringify({
      id,
      object,
      created,
      model,
      choices: [{ ...choice, logprobs: null, finish_reason: finishReason }],
    });
  };
  try {
    if (kind === "chat") await sse.send(chunk("", null, "assistant"));
    if (parsed.echoPrompt !== undefined) await sse.send(chunk(parsed.echoPrompt, null));
    const toolStream = parsed.tools === undefined ? undefined : createToolCallStream(parsed.tools);
    let next = first;
    while (next.done !== true) {
      const event = next.value;
      if (event.type === "token" && event.text.length > 0) {
        if (toolStream === undefined) await sse.send(chunk(event.text, null));
        else for (const delta of toolStream.push(event.text)) await sse.send(chunk(delta, null));
      } else if (event.type === "done") {
        const rest = toolStream?.finish();
        for (const delta of rest?.deltas ?? []) await sse.send(chunk(delta, null));
        await sse.send(
          chunk(null, rest?.calledTools === true ? "tool_calls" : OPENAI_FINISH_REASON[event.finishReason]),
        );
        if (parsed.includeUsage) {
          await sse.send(JSON.stringify({ id, object, created, model, choices: [], usage: usage(event) }));
        }
      }
      next = await run.next();
    }
    await sse.send("[DONE]");
  } catch (error) {
    const appError = toAppError(error);
    if (appError.code !== "aborted") request.log.warn({ err: error }, "generation failed mid-stream");
    await sse.send(JSON.stringify(errorBody(appError, true)));
  } finally {
    await run.return(undefined);
    sse.end();
  }
  return reply;
}

function usage(done: Extract<EngineEvent, { type: "done" }>): Record<string, number> {
  return {
    prompt_tokens: done.promptTokens,
    completion_tokens: done.completionTokens,
    total_tokens: done.promptTokens + done.completionTokens,
  };
}
