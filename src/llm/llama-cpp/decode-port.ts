/**
 * The one part of the engine that differs between backends: turning (sequence slot, prompt tokens,
 * sampling) into a stream of generated tokens. Everything else (admission, limits, prompts,
 * detokenization, stop sequences, observers, timeouts, cancellation) stays in engine.ts.
 *
 * - "node-llama-cpp": node-llama-cpp's sequences, one async evaluation per request, decode batches
 *   ordered by the batch gate (node-llama-cpp-backend.ts);
 * - "native": the addon in native/ that decodes and samples every sequence on one thread
 *   (native/backend.ts).
 */
import type { GenerationParameters } from "../port.js";
import type { BatchGateStats } from "./batch-gate.js";

export const ENGINE_BACKENDS = ["native", "node-llama-cpp"] as const;
export type EngineBackendName = (typeof ENGINE_BACKENDS)[number];

export function isEngineBackendName(value: unknown): value is EngineBackendName {
  return (ENGINE_BACKENDS as readonly unknown[]).includes(value);
}

export type SamplingRequest = GenerationParameters & { ignoreEos?: boolean };

export type TokenLogprob = { token: number; logprob: number };

export type GeneratedToken = {
  token: number;
  logprob: number | null;
  /** The most likely tokens at this position, most likely first (when `topLogprobs` > 0). */
  top?: readonly TokenLogprob[];
  /** With the first token when `promptLogprobs` is set: logprobs of prompt tokens 1…n−1. */
  promptLogprobs?: readonly number[];
};

export type GenerationJob = {
  /** Sequence index, 0 … parallel − 1 (held through admission). */
  slot: number;
  promptTokens: readonly number[];
  /** Tokens that end the generation besides the model's end-of-generation tokens. */
  stopTokens: ReadonlySet<number>;
  maxTokens: number;
  logprobs: boolean;
  /** Alternatives reported per token (0–20). */
  topLogprobs?: number;
  /** Report each prompt token's logprob (every prompt position evaluated, nothing from the cache). */
  promptLogprobs?: boolean;
  /** n > 1: the slot of a sibling job with the same prompt whose KV this one may copy. */
  shareWith?: number;
  /** Reuse the KV of the longest common prefix the sequence holds (prompt caching). */
  cachePrompt: boolean;
  /** Index of the LoRA adapter in the engine's list; −1: the base model. */
  adapter: number;
  /** Aborts the request; a backend may stop generating at once. */
  signal: AbortSignal;
};

export type TokenStream = {
  /** The next token, or undefined once the backend stopped (end of generation, max tokens, context full, cancelled). */
  next(): Promise<GeneratedToken | undefined>;
  /** Stops generating; resolves once the sequence is idle and cleared, so the slot can be reused. */
  close(): Promise<void>;
  /** Prompt tokens that came from the sequence's cache instead of being decoded (final after close). */
  cachedPromptTokens(): number;
};

export type PreparedSampling = {
  /** The seed used (random when sampling without one), reported in TGI details. */
  seed: number | undefined;
};

export type DecodeBackend<P extends PreparedSampling = PreparedSampling> = {
  readonly name: EngineBackendName;
  /** Validates and compiles the sampling settings (logit bias, grammar) before admission. */
  prepare(parameters: SamplingRequest, promptTokens: readonly number[]): Promise<P>;
  generate(job: GenerationJob, sampling: P): TokenStream;
  decodeStats(): BatchGateStats;
  dispose(): Promise<void>;
};
