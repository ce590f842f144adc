/**
 * OpenAI-compatible wire format (`/v1/completions`, `/v1/chat/completions`, streaming `data:`
 * chunks ending with `data: [DONE]`), as served by vLLM, llama-server, Ollama and TGI's Messages API.
 * JSON schemas are requested with OpenAI's `response_format: {type: "json_schema", json_schema}`
 * (vLLM, llama-server, Ollama, recent TGI and this project's serve-llm accept it). The "tgi"
 * dialect leaves out `top_k` and `repetition_penalty`, which TGI's Messages API does not define.
 */
import { z } from "zod";
import { AppError } from "../../errors/index.js";
import type { FinishReason, GenerateRequest, GenerateResult, StreamPart } from "../port.js";
import type { ServerSentEvent } from "./sse-parser.js";
import { invalidResponseError, upstreamErrorMessage } from "./upstream-errors.js";

export type OpenAiDialect = "openai" | "tgi";

/** Token id → bias as OpenAI sends it; a ban (-Infinity) becomes -100, OpenAI's "never". */
export function toLogitBias(bias: GenerateRequest["logitBias"]): Record<string, number> | undefined {
  if (bias === undefined || Object.keys(bias).length === 0) return undefined;
  const result: Record<string, number> = {};
  for (const [token, value] of Object.entries(bias)) result[token] = Number.isFinite(value) ? value : -100;
  return result;
}

function samplingFields(request: GenerateRequest, dialect: OpenAiDialect): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  if (request.maxNewTokens !== undefined) body.max_tokens = request.maxNewTokens;
  if (request.temperature !== undefined) body.temperature = request.temperature;
  if (request.topP !== undefined) body.top_p = request.topP;
  if (request.stop !== undefined && request.stop.length > 0) body.stop = [...request.stop];
  if (request.seed !== undefined) body.seed = request.seed;
  if (dialect === "openai") {
    // Not in OpenAI's API, but vLLM, llama-server and Ollama accept these extra sampling fields.
    if (request.topK !== undefined) body.top_k = request.topK;
    if (request.repetitionPenalty !== undefined) body.repetition_penalty = request.repetitionPenalty;
  }
  const logitBias = toLogitBias(request.logitBias);
  if (logitBias !== undefined) body.logit_bias = logitBias;
  if (request.jsonSchema !== undefined) {
    body.response_format = { type: "json_schema", json_schema: { name: "output", schema: request.jsonSchema } };
  }
  return body;
}

export function toChatBody(request: GenerateRequest, model: string, dialect: OpenAiDialect, stream: boolean) {
  if (!("messages" in request)) throw new AppError("internal_error", "chat body needs messages");
  return {
    model,
    messages: request.messages.map((message) => ({ role: message.role, content: message.content })),
    ...samplingFields(request, dialect),
    stream,
    ...(stream ? { stream_options: { include_usage: true } } : {}),
  };
}

export function toCompletionBody(request: GenerateRequest, model: string, stream: boolean) {
  if (!("prompt" in request)) throw new AppError("internal_error", "completion body needs a prompt");
  return {
    model,
    prompt: request.prompt,
    ...samplingFields(request, "openai"),
    stream,
    ...(stream ? { stream_options: { include_usage: true } } : {}),
  };
}

export function openAiFinishReason(reason: string | null | undefined): FinishReason {
  if (reason === "length") return "length";
  if (reason === "eos" || reason === "eos_token") return "eos";
  return "stop";
}

const usageSchema = z.object({
  prompt_tokens: z.number().int().nonnegative(),
  completion_tokens: z.number().int().nonnegative(),
});

const chatResponse = z.object({
  choices: z
    .array(
      z.object({
        message: z.object({ content: z.string().nullish() }),
        finish_reason: z.string().nullish(),
      }),
    )
    .min(1),
  usage: usageSchema.nullish(),
});

const completionResponse = z.object({
  choices: z.array(z.object({ text: z.string(), finish_reason: z.string().nullish() })).min(1),
  usage: usageSchema.nullish(),
});

export function resultFromChatResponse(body: unknown, service: string): GenerateResult {
  const parsed = chatResponse.safeParse(body);
  if (!parsed.success) throw invalidResponseError(service, "chat completion", parsed.error.issues);
  const choice = parsed.data.choices[0] as z.infer<typeof chatResponse>["choices"][number];
  return {
    text: choice.message.content ?? "",
    finishReason: openAiFinishReason(choice.finish_reason),
    usage: {
      promptTokens: parsed.data.usage?.prompt_tokens ?? 0,
      completionTokens: parsed.data.usage?.completion_tokens ?? 0,
    },
  };
}

export function resultFromCompletionResponse(body: unknown, service: string): GenerateResult {
  const parsed = completionResponse.safeParse(body);
  if (!parsed.success) throw invalidResponseError(service, "completion", parsed.error.issues);
  const choice = parsed.data.choices[0] as z.infer<typeof completionResponse>["choices"][number];
  return {
    text: choice.text,
    finishReason: openAiFinishReason(choice.finish_reason),
    usage: {
      promptTokens: parsed.data.usage?.prompt_tokens ?? 0,
      completionTokens: parsed.data.usage?.completion_tokens ?? 0,
    },
  };
}

const streamChunk = z.object({
  choices: z
    .array(
      z.object({
        delta: z.object({ content: z.string().nullish() }).nullish(),
        text: z.string().nullish(),
        finish_reason: z.string().nullish(),
      }),
    )
    .nullish(),
  usage: usageSchema.nullish(),
});

/**
 * `data:` chunks → stream parts, until `data: [DONE]`. The finish reason comes with the last
 * choice chunk, usage with it or in a separate chunk with no choices (stream_options.include_usage).
 * Servers that send no usage get the number of content chunks as completion tokens.
 */
export async function* openAiStreamParts(
  events: AsyncIterable<ServerSentEvent>,
  service: string,
): AsyncGenerator<StreamPart> {
  let finishReason: FinishReason | undefined;
  let usage: { promptTokens: number; completionTokens: number } | undefined;
  let contentChunks = 0;
  for await (const event of events) {
    const data = event.data.trim();
    if (data === "") continue;
    if (data === "[DONE]") {
      if (finishReason === undefined) {
        throw new AppError("upstream_error", `The ${service} stream ended without a finish reason`, {
          retryable: false,
        });
      }
      yield { type: "done", finishReason, usage: usage ?? { promptTokens: 0, completionTokens: contentChunks } };
      return;
    }
    let json: unknown;
    try {
      json = JSON.parse(data);
    } catch {
      throw new AppError("upstream_error", `The ${service} sent a stream chunk that is not JSON`, { retryable: false });
    }
    if (typeof json === "object" && json !== null && "error" in json) {
      const message = upstreamErrorMessage(json);
      throw new AppError("upstream_error", `The ${service} failed while generating`, {
        cause: new Error(`stream error chunk: ${message ?? "(no message)"}`),
        retryable: false,
      });
    }
    const parsed = streamChunk.safeParse(json);
    if (!parsed.success) throw invalidResponseError(service, "stream chunk", parsed.error.issues);
    for (const choice of parsed.data.choices ?? []) {
      const text = choice.delta?.content ?? choice.text ?? "";
      if (text !== "") {
        contentChunks++;
        yield { type: "token", text };
      }
      if (choice.finish_reason !== null && choice.finish_reason !== undefined) {
        finishReason = openAiFinishReason(choice.finish_reason);
      }
    }
    if (parsed.data.usage !== null && parsed.data.usage !== undefined) {
      usage = { promptTokens: parsed.data.usage.prompt_tokens, completionTokens: parsed.data.usage.completion_tokens };
    }
  }
  throw new AppError("upstream_error", `The ${service} stream ended before data: [DONE]`, { retryable: false });
}
