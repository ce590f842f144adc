/**
 * TGI request bodies (`/generate`, `/generate_stream`, `/invocations`). Every parameter TGI
 * defines is accepted (clients such as huggingface_hub send them all, mostly null); values we do
 * not implement are refused with 422 rather than silently ignored, and unknown parameters are 422.
 * `watermark: true` boosts the engine's green list (src/llm/watermark; native engine only).
 * Extensions: `logit_bias`, `ignore_eos` and `cache_prompt` in `parameters` (as vLLM and
 * llama-server have them).
 */
import { z } from "zod";
import { AppError } from "../errors/index.js";
import { RegexGrammarError, regexToGbnf } from "../llm/grammar/regex-gbnf.js";
import { type EngineRequest, MAX_TOP_LOGPROBS } from "../llm/llama-cpp/index.js";
import {
  assertSchemaDepth,
  logitBiasSchema,
  normalizeLogitBias,
  normalizeStop,
  parseBody,
  stopSchema,
  unsupported,
} from "./request-parsing.js";

export const MAX_STOP_SEQUENCES = 16;

const grammarSchema = z.strictObject({
  type: z.enum(["json", "json_object", "json_schema", "regex"]),
  value: z.union([z.record(z.string(), z.unknown()), z.string()]),
});

const parametersSchema = z.strictObject({
  max_new_tokens: z.int().positive().nullish(),
  temperature: z.number().min(0).nullish(),
  top_k: z.int().positive().nullish(),
  top_p: z.number().gt(0).lte(1).nullish(),
  repetition_penalty: z.number().gt(0).nullish(),
  frequency_penalty: z.number().min(-2).max(2).nullish(),
  stop: stopSchema.nullish(),
  seed: z.int().nonnegative().nullish(),
  return_full_text: z.boolean().nullish(),
  details: z.boolean().nullish(),
  decoder_input_details: z.boolean().nullish(),
  do_sample: z.boolean().nullish(),
  truncate: z.int().positive().nullish(),
  grammar: grammarSchema.nullish(),
  best_of: z.int().positive().nullish(),
  typical_p: z.number().nullish(),
  top_n_tokens: z.int().nonnegative().nullish(),
  watermark: z.boolean().nullish(),
  adapter_id: z.string().nullish(),
  logit_bias: logitBiasSchema.nullish(),
  ignore_eos: z.boolean().nullish(),
  cache_prompt: z.boolean().nullish(),
});

export const tgiRequestSchema = z.strictObject({
  inputs: z.string().min(1, "`inputs` cannot be empty"),
  parameters: parametersSchema.nullish(),
  stream: z.boolean().nullish(),
});

export type TgiRequest = z.output<typeof tgiRequestSchema>;

export type ParsedTgiRequest = {
  engineRequest: Omit<EngineRequest, "signal">;
  inputs: string;
  returnFullText: boolean;
  details: boolean;
  decoderInputDetails: boolean;
  stream: boolean;
  /** Alternatives reported per generated token (details.top_tokens). */
  topNTokens: number;
  /** Sequences generated; the one with the highest total logprob is returned (checked by the route against --max-n). */
  bestOf: number;
};

export function parseTgiRequest(body: unknown): ParsedTgiRequest {
  const request = parseBody(tgiRequestSchema, body);
  const p = request.parameters ?? {};
  // TGI's validation (router/src/validation.rs), with its messages.
  if (p.top_n_tokens != null && p.top_n_tokens > MAX_TOP_LOGPROBS) {
    throw new AppError(
      "validation_error",
      `Input validation error: \`top_n_tokens\` must be >= 0 and <= ${MAX_TOP_LOGPROBS}. Given: ${p.top_n_tokens}`,
    );
  }
  if (p.typical_p != null && !(p.typical_p > 0 && p.typical_p < 1)) {
    throw new AppError(
      "validation_error",
      `Input validation error: \`typical_p\` must be > 0.0 and < 1.0. Given: ${p.typical_p}`,
    );
  }
  const stop = normalizeStop(p.stop);
  if (stop !== undefined && stop.length > MAX_STOP_SEQUENCES) {
    throw unsupported("stop", `must have at most ${MAX_STOP_SEQUENCES} sequences. Given: ${stop.length}`);
  }
  // TGI's rule (its server's NextTokenChooser): do_sample, or any warper away from its default
  // (temperature ≠ 1, top_k ≠ 0, top_p < 1, typical_p < 1), samples; else greedy. Temperature 0
  // (our extension, TGI refuses it) is greedy.
  const warped =
    (p.temperature != null && p.temperature !== 1) ||
    (p.top_k != null && p.top_k !== 0) ||
    (p.top_p ?? 1) < 1 ||
    (p.typical_p ?? 1) < 1;
  const sampling = p.do_sample === true || (p.temperature !== 0 && warped);
  const bestOf = p.best_of ?? 1;
  if (bestOf > 1) {
    if (!sampling)
      throw new AppError("validation_error", "Input validation error: you must use sampling when `best_of` is > 1");
    if (p.seed != null)
      throw new AppError("validation_error", "Input validation error: `seed` must not be set when `best_of` > 1");
    if (request.stream === true) {
      throw new AppError(
        "validation_error",
        "Input validation error: `best_of` != 1 is not supported when streaming tokens",
      );
    }
  }
  const temperature = sampling ? (p.temperature ?? 1) : 0;
  const parameters: EngineRequest["parameters"] = { temperature };
  if (p.max_new_tokens != null) parameters.maxNewTokens = p.max_new_tokens;
  if (p.top_k != null) parameters.topK = p.top_k;
  if (p.top_p != null) parameters.topP = p.top_p;
  if (p.typical_p != null) parameters.typicalP = p.typical_p;
  if (p.repetition_penalty != null) parameters.repetitionPenalty = p.repetition_penalty;
  if (p.frequency_penalty) parameters.frequencyPenalty = p.frequency_penalty;
  if (stop !== undefined) parameters.stop = stop;
  if (p.seed != null) parameters.seed = p.seed;
  if (p.truncate != null) parameters.truncate = p.truncate;
  if (p.ignore_eos === true) parameters.ignoreEos = true;
  if (p.cache_prompt === false) parameters.cachePrompt = false;
  if (p.adapter_id != null) parameters.adapter = p.adapter_id;
  if (p.watermark === true) parameters.watermark = true;
  const logitBias = normalizeLogitBias(p.logit_bias);
  if (logitBias !== undefined) parameters.logitBias = logitBias;
  if (p.grammar?.type === "regex") parameters.grammar = regexGrammar(p.grammar.value);
  else if (p.grammar != null) {
    parameters.jsonSchema = grammarToJsonSchema(p.grammar);
    assertSchemaDepth(parameters.jsonSchema, "grammar.value");
  }
  const topNTokens = p.top_n_tokens ?? 0;
  if (topNTokens > 0) parameters.topLogprobs = topNTokens;
  // Prefill logprobs cost logits for every prompt position: computed only when returned.
  if (p.details === true && p.decoder_input_details === true && request.stream !== true) {
    parameters.promptLogprobs = true;
  }
  return {
    engineRequest: { input: { prompt: request.inputs }, parameters },
    inputs: request.inputs,
    returnFullText: p.return_full_text === true,
    details: p.details === true,
    decoderInputDetails: p.decoder_input_details === true,
    stream: request.stream === true,
    topNTokens,
    bestOf,
  };
}

/** TGI's regex grammar: the whole output matches the regex (src/llm/grammar/regex-gbnf.ts). */
function regexGrammar(value: unknown): string {
  if (typeof value !== "string") throw unsupported("grammar.value", "must be a regular expression (a string)");
  try {
    return regexToGbnf(value);
  } catch (error) {
    if (error instanceof RegexGrammarError) throw unsupported("grammar.value", `regex: ${error.message}`);
    throw error;
  }
}

function grammarToJsonSchema(grammar: z.output<typeof grammarSchema>): Record<string, unknown> {
  if (typeof grammar.value === "string") {
    try {
      const parsed: unknown = JSON.parse(grammar.value);
      if (typeof parsed === "object" && parsed !== null && !Array.isArray(parsed))
        return parsed as Record<string, unknown>;
    } catch {
      // falls through to the error below
    }
    throw unsupported("grammar.value", "must be a JSON schema object");
  }
  return grammar.value;
}
