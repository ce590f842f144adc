/**
 * OpenAI-compatible API: POST /v1/completions, POST /v1/chat/completions (both with `stream`:
 * `data: {chunk}` events, then `data: [DONE]`), GET /v1/models. `n` > 1 runs n sequences sharing
 * the prompt's KV (engine-choices.ts); streamed chunks carry their choice's `index`. Chat `tools`
 * (openai-tools.ts): each choice's output is read back as tool calls, streamed as
 * `delta.tool_calls` (tool-call-stream.ts).
 */
import { randomUUID } from "node:crypto";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { AppError, HTTP_STATUS } from "../../errors/index.js";
import type { SocketStreamHandle } from "../../llm/llama-cpp/engine-types.js";
import { checkChoices, type EngineEvent, type LlamaCppEngine, runChoices } from "../../llm/llama-cpp/index.js";
import type { FinishReason } from "../../llm/port.js";
import { clientDisconnectSignal, markStreamFailed, startSse } from "../client-connection.js";
import type { EmbeddingHolder } from "../embedding-holder.js";
import { errorBody, openAiTerms, toAppError } from "../http-errors.js";
import type { ModelHolder } from "../model-holder.js";
import { openAiUsage, systemFingerprint } from "../openai-response-fields.js";
import { parseToolCalls, toolPromptInput } from "../openai-tools.js";
import {
  chatRequestSchema,
  completionRequestSchema,
  type ParsedOpenAiRequest,
  parseChatRequest,
  parseCompletionRequest,
} from "../schemas-openai.js";
import { jsonTextParts, jsonWithText } from "../sse-chunks.js";
import { type ChatDelta, createToolCallStream, type ToolCallStream } from "../tool-call-stream.js";
import { type ChatLogprob, chatLogprob, createCompletionLogprobs, withPromptLogprobs } from "./openai-logprobs.js";
import { adapterForModel, refuseEmbeddingModel, servedModelEntries } from "./served-models.js";

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
      refuseEmbeddingModel(engine, options.embeddings, request.body.model);
      return respond(engine, "completion", parseCompletionRequest(request.body), request, reply);
    },
  );
  typed.post(
    "/v1/chat/completions",
    { schema: { tags, summary: "Chat completion", body: chatRequestSchema } },
    async (request, reply) => {
      const engine = holder.require();
      refuseEmbeddingModel(engine, options.embeddings, request.body.model);
      return respondToChat(engine, request.body, request, reply);
    },
  );
  app.get("/v1/models", { schema: { tags, summary: "The model served" } }, async () => ({
    object: "list",
    data: servedModelEntries(holder, options.embeddings, options.startedAt),
  }));
  app.get<{ Params: { model: string } }>(
    "/v1/models/:model",
    { schema: { tags, summary: "One model served (OpenAI's models.retrieve)" } },
    async (request) => {
      const entry = servedModelEntries(holder, options.embeddings, options.startedAt).find(
        (candidate) => candidate.id === request.params.model,
      );
      if (entry !== undefined) return entry;
      throw new AppError(
        "model_not_found",
        `The model '${request.params.model}' is not served here; GET /v1/models lists the models and adapters served`,
      );
    },
  );
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

/** Answers an OpenAI completions body (also sent to SageMaker's /invocations by completion clients). */
export async function respondToCompletion(
  engine: LlamaCppEngine,
  body: unknown,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<unknown> {
  return respond(engine, "completion", parseCompletionRequest(body), request, reply);
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
  const adapter = adapterForModel(engine, parsed.model);
  const model = adapter?.name ?? engine.modelId;
  // Legacy completions with echo + logprobs cover the prompt's tokens too (not streamed).
  const promptLogprobs =
    kind === "completion" && !parsed.stream && parsed.echoPrompt !== undefined && parsed.logprobs !== undefined;
  const engineRequest = {
    ...parsed.engineRequest,
    parameters: {
      ...parsed.engineRequest.parameters,
      ...(adapter === undefined ? {} : { adapter: adapter.name }),
      ...(promptLogprobs ? { promptLogprobs: true } : {}),
    },
  };
  checkChoices(engine, parsed.n, "n");
  const fingerprint = systemFingerprint(engine, adapter?.name);
  // Native streaming (docs/llm-service.md): the engine may write the text chunks to the socket
  // itself; it asks once generation starts, after the head (and the chat role chunk) went out.
  let handOver: (() => SocketStreamHandle | undefined) | undefined;
  const nativeStream =
    parsed.stream &&
    parsed.n === 1 &&
    parsed.logprobs === undefined &&
    parsed.tools === undefined &&
    parsed.echoPrompt === undefined;
  const run = runChoices(
    engine,
    { ...engineRequest, signal, ...(nativeStream ? { socketStream: () => handOver?.() } : {}) },
    parsed.n,
  );
  const logprobs = parsed.logprobs !== undefined;
  const offset = parsed.echoPrompt?.length ?? 0;
  const completionLogprobs = Array.from({ length: parsed.n }, () => createCompletionLogprobs(engine, offset));
  const chatLogprobs = Array.from({ length: parsed.n }, (): ChatLogprob[] => []);
  if (!parsed.stream) {
    const done: Array<Extract<EngineEvent, { type: "done" }> | undefined> = Array(parsed.n).fill(undefined);
    const promptIds: Array<readonly number[]> = [];
    for await (const { choice, event } of run) {
      if (event.type === "start") promptIds[choice] = event.promptTokenIds;
      else if (event.type === "done") done[choice] = event;
      else if (event.type === "token" && logprobs) {
        if (kind === "completion") completionLogprobs[choice]?.push(event);
        else {
          const entry = chatLogprob(engine, event);
          if (entry !== undefined) chatLogprobs[choice]?.push(entry);
        }
      }
    }
    const finished = done.filter((event) => event !== undefined);
    if (finished.length !== parsed.n) throw new Error("generation ended without a result");
    const choices = finished.map((event, index) => {
      const text = (parsed.echoPrompt ?? "") + event.generatedText;
      const choiceLogprobs = !logprobs
        ? null
        : kind === "chat"
          ? { content: chatLogprobs[index] ?? [], refusal: null }
          : (mapDefined(completionLogprobs[index]?.result(), (completion) =>
              promptLogprobs && event.promptLogprobs !== undefined
                ? withPromptLogprobs(
                    engine,
                    { ids: promptIds[index] ?? [], logprobs: event.promptLogprobs, text: parsed.echoPrompt ?? "" },
                    completion,
                  )
                : completion,
            ) ?? null);
      const toolCalls = parsed.tools === undefined ? undefined : parseToolCalls(text, parsed.tools);
      const choice =
        kind !== "chat"
          ? { index, text, logprobs: choiceLogprobs }
          : toolCalls === undefined
            ? { index, message: { role: "assistant", content: text, refusal: null }, logprobs: choiceLogprobs }
            : {
                index,
                message: { role: "assistant", content: null, refusal: null, tool_calls: toolCalls },
                logprobs: choiceLogprobs,
              };
      const finishReason = toolCalls === undefined ? OPENAI_FINISH_REASON[event.finishReason] : "tool_calls";
      return { ...choice, finish_reason: finishReason };
    });
    return reply.send({
      id,
      object: kind === "chat" ? "chat.completion" : "text_completion",
      created,
      model,
      system_fingerprint: fingerprint,
      choices,
      usage: openAiUsage(finished),
    });
  }

  const first = await run.next();
  const sse = startSse(reply, "data: ");
  const object = kind === "chat" ? "chat.completion.chunk" : "text_completion";
  const chunkObject = (
    index: number,
    delta: string | ChatDelta | null,
    finishReason: string | null,
    options: { role?: string; logprobs?: unknown } = {},
  ): unknown => {
    const choice =
      kind === "chat"
        ? {
            index,
            delta:
              delta === null
                ? {}
                : typeof delta !== "string"
                  ? delta
                  : options.role === undefined
                    ? { content: delta }
                    : { role: options.role, content: delta },
          }
        : { index, text: typeof delta === "string" ? delta : "" };
    return {
      id,
      object,
      created,
      model,
      system_fingerprint: fingerprint,
      choices: [{ ...choice, logprobs: options.logprobs ?? null, finish_reason: finishReason }],
      // With include_usage, every chunk but the last has `usage: null` (OpenAI's stream shape).
      ...(parsed.includeUsage ? { usage: null } : {}),
    };
  };
  const chunk = (...args: Parameters<typeof chunkObject>): string => JSON.stringify(chunkObject(...args));
  // The chunk of most tokens (text only), per choice: serialized once, only the text per token.
  const textChunk = Array.from({ length: parsed.n }, (_, index) =>
    jsonWithText((text) => chunkObject(index, text, null)),
  );
  const textParts = jsonTextParts((text) => chunkObject(0, text, null));
  handOver = () => {
    if (textParts === undefined) return undefined;
    const socket = sse.handOver();
    return socket === undefined ? undefined : { ...socket, ...textParts, dataPrefix: "data: " };
  };
  const finished: Array<Extract<EngineEvent, { type: "done" }>> = [];
  // One tool-call stream per choice: its text leaves as `delta.content` or `delta.tool_calls`.
  const toolStreams: Array<ToolCallStream | undefined> = Array.from({ length: parsed.n }, () =>
    parsed.tools === undefined ? undefined : createToolCallStream(parsed.tools),
  );
  try {
    for (let index = 0; index < parsed.n; index += 1) {
      if (kind === "chat") await sse.send(chunk(index, "", null, { role: "assistant" }));
      if (parsed.echoPrompt !== undefined) await sse.send(chunk(index, parsed.echoPrompt, null));
    }
    let next = first;
    while (next.done !== true) {
      const { choice, event } = next.value;
      if (event.type === "token") {
        // With logprobs every token gets its chunk (its text may be held back: a partial
        // character or a possible stop sequence); without, only chunks with text.
        const entry = !logprobs
          ? undefined
          : kind === "chat"
            ? mapDefined(chatLogprob(engine, event), (content) => ({ content: [content], refusal: null }))
            : completionLogprobs[choice]?.push(event);
        const extra = entry === undefined ? {} : { logprobs: entry };
        const toolStream = toolStreams[choice];
        if (toolStream === undefined) {
          if (entry !== undefined) await sse.send(chunk(choice, event.text, null, extra));
          else if (event.text.length > 0) {
            const render = textChunk[choice];
            // Awaited only when the socket buffer is full (an await costs a turn per token).
            const full = sse.send(render === undefined ? chunk(choice, event.text, null) : render(event.text));
            if (full !== undefined) await full;
          }
        } else {
          // The token's log-probabilities go with its first delta, or alone when the tool-call
          // stream holds its text back.
          const deltas = event.text.length > 0 ? toolStream.push(event.text) : [];
          if (deltas.length === 0 && entry !== undefined) await sse.send(chunk(choice, null, null, extra));
          for (const [position, delta] of deltas.entries()) {
            await sse.send(chunk(choice, delta, null, position === 0 ? extra : {}));
          }
        }
      } else if (event.type === "done") {
        // The finish chunk, usage, [DONE] and the end leave in one write.
        sse.batch();
        finished.push(event);
        const rest = toolStreams[choice]?.finish();
        for (const delta of rest?.deltas ?? []) await sse.send(chunk(choice, delta, null));
        const finishReason = rest?.calledTools === true ? "tool_calls" : OPENAI_FINISH_REASON[event.finishReason];
        await sse.send(chunk(choice, null, finishReason));
      }
      next = await run.next();
    }
    if (parsed.includeUsage) {
      const last = { id, object, created, model, system_fingerprint: fingerprint, choices: [] };
      await sse.send(JSON.stringify({ ...last, usage: openAiUsage(finished) }));
    }
    await sse.send("[DONE]");
  } catch (error) {
    const appError = toAppError(error);
    if (appError.code !== "aborted") request.log.warn({ err: error }, "generation failed mid-stream");
    markStreamFailed(reply, HTTP_STATUS[appError.code]);
    await sse.send(JSON.stringify(errorBody(appError, true, openAiTerms(request.routeOptions.url, request.body))));
  } finally {
    await run.return(undefined);
    sse.end();
  }
  return reply;
}

function mapDefined<T, R>(value: T | undefined, map: (value: T) => R): R | undefined {
  return value === undefined ? undefined : map(value);
}
