/**
 * LanguageModel over Hugging Face Text Generation Inference's HTTP API — which `llm-twin serve-llm`
 * also speaks. `{prompt}` → POST /generate (stream: /generate_stream); `{messages}` → TGI's
 * Messages API, POST /v1/chat/completions. Health → GET /health.
 */
import type { GenerateRequest, GenerateResult, LanguageModel, StreamPart } from "../port.js";
import { createCallContext, type HttpClientOptions } from "./client-options.js";
import { createHttpTransport, probe, requestEventStream, requestJson } from "./http-transport.js";
import { openAiStreamParts, resultFromChatResponse, toChatBody } from "./openai-protocol.js";
import { retryingCalls } from "./retrying-calls.js";
import { resultFromTgiResponse, tgiStreamParts, toTgiParameters } from "./tgi-protocol.js";

export type TgiLanguageModelOptions = HttpClientOptions;

/** The `model` field TGI's Messages API expects (it serves one model and accepts any name). */
const TGI_CHAT_MODEL = "tgi";

export function createTgiLanguageModel(options: TgiLanguageModelOptions): LanguageModel {
  const service = "TGI server";
  const transport = createHttpTransport({
    url: options.url,
    service,
    headers: options.headers,
    maxResponseBytes: options.maxResponseBytes,
    fetch: options.fetch,
  });
  const context = createCallContext(options, service);

  async function generateOnce(request: GenerateRequest, signal: AbortSignal): Promise<GenerateResult> {
    if ("messages" in request) {
      const response = await requestJson(transport, {
        method: "POST",
        path: "/v1/chat/completions",
        body: toChatBody(request, request.adapter ?? TGI_CHAT_MODEL, "tgi", false),
        signal,
      });
      return resultFromChatResponse(response.body, service);
    }
    const response = await requestJson(transport, {
      method: "POST",
      path: "/generate",
      body: { inputs: request.prompt, parameters: toTgiParameters(request) },
      signal,
    });
    return resultFromTgiResponse(response.body, service, response.headers);
  }

  async function* streamOnce(request: GenerateRequest, signal: AbortSignal): AsyncGenerator<StreamPart> {
    if ("messages" in request) {
      const body = toChatBody(request, request.adapter ?? TGI_CHAT_MODEL, "tgi", true);
      yield* openAiStreamParts(
        await requestEventStream(transport, { path: "/v1/chat/completions", body, signal }),
        service,
      );
      return;
    }
    const body = { inputs: request.prompt, parameters: toTgiParameters(request), stream: true };
    yield* tgiStreamParts(await requestEventStream(transport, { path: "/generate_stream", body, signal }), service);
  }

  return {
    id: options.id ?? transport.baseUrl,
    ...retryingCalls(context, { generateOnce, streamOnce }),
    health(healthOptions) {
      return context.health(healthOptions?.signal, (signal) => probe(transport, "/health", signal));
    },
    async [Symbol.asyncDispose]() {
      context.dispose();
    },
  };
}
