/**
 * Text Generation Inference (TGI) wire format: the `{inputs, parameters}` request, the
 * `/generate` answer, and the `/generate_stream` token events. Shared by the TGI HTTP client and
 * the SageMaker runtime client (the Hugging Face TGI container speaks the same payloads).
 */
import { z } from "zod";
import { AppError } from "../../errors/index.js";
import type { FinishReason, GenerateRequest, GenerateResult, StreamPart } from "../port.js";
import { toLogitBias } from "./openai-protocol.js";
import type { ServerSentEvent } from "./sse-parser.js";
import { invalidResponseError, upstreamErrorMessage } from "./upstream-errors.js";

export type TgiParameters = {
  max_new_tokens?: number;
  do_sample?: boolean;
  temperature?: number;
  top_k?: number;
  top_p?: number;
  repetition_penalty?: number;
  stop?: string[];
  seed?: number;
  return_full_text: false;
  details: true;
  decoder_input_details?: boolean;
  grammar?: { type: "json"; value: Record<string, unknown> };
  /** Extension (as in vLLM and llama-server) that llm-twin serve-llm honours; not part of TGI's API. */
  logit_bias?: Record<string, number>;
  /** LoRA adapter (TGI's multi-LoRA `adapter_id`; serve-llm's --lora and registry adapters). */
  adapter_id?: string;
  /** TGI's watermark (serve-llm: native engine, --watermark-gamma/--watermark-delta). */
  watermark?: boolean;
};

/** Port parameters → TGI parameter names. Temperature 0 means greedy (TGI wants do_sample false). */
export function toTgiParameters(
  request: GenerateRequest,
  options: { decoderInputDetails?: boolean } = {},
): TgiParameters {
  const parameters: TgiParameters = { return_full_text: false, details: true };
  if (request.maxNewTokens !== undefined) parameters.max_new_tokens = request.maxNewTokens;
  if (request.temperature !== undefined) {
    if (request.temperature > 0) {
      parameters.temperature = request.temperature;
      parameters.do_sample = true;
    } else {
      parameters.do_sample = false;
    }
  }
  // Greedy leaves top_k/top_p out: TGI samples whenever either is set, even with do_sample false.
  const greedy = parameters.do_sample === false;
  if (!greedy && request.topK !== undefined && request.topK > 0) parameters.top_k = request.topK;
  // TGI requires 0 < top_p < 1; 1 means "no nucleus filtering", so it is left out.
  if (!greedy && request.topP !== undefined && request.topP > 0 && request.topP < 1) parameters.top_p = request.topP;
  if (request.repetitionPenalty !== undefined) parameters.repetition_penalty = request.repetitionPenalty;
  if (request.stop !== undefined && request.stop.length > 0) parameters.stop = [...request.stop];
  if (request.seed !== undefined) parameters.seed = request.seed;
  if (request.jsonSchema !== undefined) parameters.grammar = { type: "json", value: request.jsonSchema };
  if (options.decoderInputDetails === true) parameters.decoder_input_details = true;
  const logitBias = toLogitBias(request.logitBias);
  if (logitBias !== undefined) parameters.logit_bias = logitBias;
  if (request.adapter !== undefined) parameters.adapter_id = request.adapter;
  if (request.watermark === true) parameters.watermark = true;
  return parameters;
}

export function promptOf(request: GenerateRequest): string {
  if (!("prompt" in request)) {
    throw new AppError("validation_error", "TGI's generate API takes a prompt, not messages", { retryable: false });
  }
  return request.prompt;
}

export function tgiFinishReason(reason: string): FinishReason {
  if (reason === "length") return "length";
  if (reason === "eos_token" || reason === "eos") return "eos";
  return "stop";
}

const tgiDetails = z.object({
  finish_reason: z.string(),
  generated_tokens: z.number().int().nonnegative(),
  seed: z.number().nullish(),
  prefill: z.array(z.unknown()).nullish(),
  input_length: z.number().int().nonnegative().nullish(),
});

const tgiGeneration = z.object({
  generated_text: z.string(),
  details: tgiDetails.nullish(),
});

/** `/generate` answers an object; `/` and SageMaker's `/invocations` answer a one-element array. */
const tgiGenerateResponse = z.union([tgiGeneration, z.array(tgiGeneration).min(1)]);

function headerCount(headers: Headers | undefined, name: string): number | undefined {
  const value = headers?.get(name);
  if (value === null || value === undefined) return undefined;
  const number = Number(value);
  return Number.isInteger(number) && number >= 0 ? number : undefined;
}

export function resultFromTgiResponse(body: unknown, service: string, headers?: Headers): GenerateResult {
  const parsed = tgiGenerateResponse.safeParse(body);
  if (!parsed.success) throw invalidResponseError(service, "generate response", parsed.error.issues);
  const generation = Array.isArray(parsed.data) ? (parsed.data[0] as z.infer<typeof tgiGeneration>) : parsed.data;
  const details = generation.details ?? undefined;
  const promptTokens =
    headerCount(headers, "x-prompt-tokens") ?? details?.input_length ?? details?.prefill?.length ?? 0;
  const completionTokens = details?.generated_tokens ?? headerCount(headers, "x-generated-tokens") ?? 0;
  return {
    text: generation.generated_text,
    finishReason: details === undefined ? "stop" : tgiFinishReason(details.finish_reason),
    usage: { promptTokens, completionTokens },
  };
}

const tgiStreamEvent = z.object({
  index: z.number().optional(),
  token: z.object({
    id: z.number().int(),
    text: z.string(),
    logprob: z.number().nullish(),
    special: z.boolean().optional(),
  }),
  generated_text: z.string().nullish(),
  details: tgiDetails.nullish(),
});

/**
 * TGI token events → stream parts. Special tokens (the end-of-sequence marker) are not text and
 * are skipped, as TGI's own generated_text does. An `{"error": ...}` event becomes an AppError.
 */
export async function* tgiStreamParts(
  events: AsyncIterable<ServerSentEvent>,
  service: string,
): AsyncGenerator<StreamPart> {
  let streamedText = "";
  for await (const event of events) {
    const data = event.data.trim();
    if (data === "" || data === "[DONE]") continue;
    let json: unknown;
    try {
      json = JSON.parse(data);
    } catch {
      throw new AppError("upstream_error", `The ${service} sent a stream event that is not JSON`, { retryable: false });
    }
    if (typeof json === "object" && json !== null && "error" in json) {
      const errorType = (json as { error_type?: unknown }).error_type;
      const message = upstreamErrorMessage(json);
      if (errorType === "overloaded") {
        throw new AppError("overloaded", `The ${service} is overloaded; try again later`, { retryable: true });
      }
      if (errorType === "validation") {
        throw new AppError("validation_error", `The ${service} rejected the request${message ? `: ${message}` : ""}`, {
          retryable: false,
        });
      }
      throw new AppError("upstream_error", `The ${service} failed while generating`, {
        cause: new Error(`stream error event: ${message ?? "(no message)"}`),
        retryable: false,
      });
    }
    const parsed = tgiStreamEvent.safeParse(json);
    if (!parsed.success) throw invalidResponseError(service, "stream event", parsed.error.issues);
    const { token, details, generated_text: generatedText } = parsed.data;
    if (token.special !== true && token.text !== "") {
      streamedText += token.text;
      yield { type: "token", text: token.text, tokenId: token.id };
    }
    if (details !== null && details !== undefined) {
      // Text the token events did not carry (e.g. bytes of an incomplete character flushed at the
      // end) is in the final generated_text: deliver it so streamed and generated text agree.
      if (
        typeof generatedText === "string" &&
        generatedText.length > streamedText.length &&
        generatedText.startsWith(streamedText)
      ) {
        yield { type: "token", text: generatedText.slice(streamedText.length) };
      }
      yield {
        type: "done",
        finishReason: tgiFinishReason(details.finish_reason),
        usage: { promptTokens: details.input_length ?? 0, completionTokens: details.generated_tokens },
      };
      return;
    }
  }
  throw new AppError("upstream_error", `The ${service} stream ended before its final event`, { retryable: false });
}
