/**
 * LanguageModel over an OpenAI-compatible server (vLLM, llama-server, Ollama, this project's
 * serve-llm): `{prompt}` → POST /v1/completions, `{messages}` → POST /v1/chat/completions, both
 * streamed as `data:` chunks until `data: [DONE]` with usage (stream_options.include_usage).
 * Health → GET /v1/models. Without a `model` option, the first model the server lists is used.
 */
import { z } from "zod";
import { AppError } from "../../errors/index.js";
import type { GenerateRequest, GenerateResult, LanguageModel, StreamPart } from "../port.js";
import { createCallContext, type HttpClientOptions } from "./client-options.js";
import { createHttpTransport, probe, requestEventStream, requestJson } from "./http-transport.js";
import {
  openAiStreamParts,
  resultFromChatResponse,
  resultFromCompletionResponse,
  toChatBody,
  toCompletionBody,
} from "./openai-protocol.js";
import { retryingCalls } from "./retrying-calls.js";
import { invalidResponseError } from "./upstream-errors.js";

export type OpenAiLanguageModelOptions = HttpClientOptions & {
  /** Model name sent in requests; the first one listed by GET /v1/models when absent. */
  model?: string;
  /** Sent as `Authorization: Bearer <apiKey>`. */
  apiKey?: string;
};

const modelList = z.object({ data: z.array(z.object({ id: z.string().min(1) })) });

/** Accepts a base URL with or without the /v1 suffix. */
function baseUrlOf(url: string): string {
  return url.replace(/\/+$/, "").replace(/\/v1$/, "");
}

export function createOpenAiLanguageModel(options: OpenAiLanguageModelOptions): LanguageModel {
  const service = "OpenAI-compatible server";
  const headers: Record<string, string> = { ...options.headers };
  if (options.apiKey !== undefined && options.apiKey !== "") headers.authorization = `Bearer ${options.apiKey}`;
  const transport = createHttpTransport({
    url: baseUrlOf(options.url),
    service,
    headers,
    maxResponseBytes: options.maxResponseBytes,
    fetch: options.fetch,
  });
  const context = createCallContext(options, service);
  let modelName: Promise<string> | undefined = options.model === undefined ? undefined : Promise.resolve(options.model);

  async function listModels(signal: AbortSignal): Promise<string> {
    const response = await requestJson(transport, { method: "GET", path: "/v1/models", signal });
    const parsed = modelList.safeParse(response.body);
    if (!parsed.success) throw invalidResponseError(service, "model list", parsed.error.issues);
    const first = parsed.data.data[0];
    if (first === undefined) {
      throw new AppError("upstream_error", `The ${service} lists no model; pass a model name`, { retryable: false });
    }
    return first.id;
  }

  function resolveModel(signal: AbortSignal): Promise<string> {
    if (modelName === undefined) {
      const pending = listModels(signal);
      modelName = pending;
      // A failed lookup is not cached: the next call asks again.
      pending.catch(() => {
        if (modelName === pending) modelName = undefined;
      });
    }
    return modelName;
  }

  async function generateOnce(request: GenerateRequest, signal: AbortSignal): Promise<GenerateResult> {
    // An adapter is selected by its model name (as vLLM and serve-llm serve LoRA adapters).
    const model = request.adapter ?? (await resolveModel(signal));
    if ("messages" in request) {
      const body = toChatBody(request, model, "openai", false);
      const response = await requestJson(transport, { method: "POST", path: "/v1/chat/completions", body, signal });
      return resultFromChatResponse(response.body, service);
    }
    const body = toCompletionBody(request, model, false);
    const response = await requestJson(transport, { method: "POST", path: "/v1/completions", body, signal });
    return resultFromCompletionResponse(response.body, service);
  }

  async function* streamOnce(request: GenerateRequest, signal: AbortSignal): AsyncGenerator<StreamPart> {
    const model = request.adapter ?? (await resolveModel(signal));
    const [path, body] =
      "messages" in request
        ? ["/v1/chat/completions", toChatBody(request, model, "openai", true)]
        : ["/v1/completions", toCompletionBody(request, model, true)];
    yield* openAiStreamParts(await requestEventStream(transport, { path, body, signal }), service);
  }

  return {
    id: options.id ?? options.model ?? transport.baseUrl,
    ...retryingCalls(context, { generateOnce, streamOnce }),
    health(healthOptions) {
      return context.health(healthOptions?.signal, (signal) => probe(transport, "/v1/models", signal));
    },
    async [Symbol.asyncDispose]() {
      context.dispose();
    },
  };
}
