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

/**
 * Where a streamed response's text chunks go when the backend writes them to the client itself
 * (native streaming, docs/llm-service.md): the response's socket and the shape of its chunks.
 */
export type SocketStreamTarget = {
  /** The socket's file descriptor (the backend writes to a copy of it). */
  fd: number;
  /** Chunks framed as HTTP chunks (`<hex size>\r\n…\r\n`). */
  chunked: boolean;
  /** "data: " (OpenAI) or "data:" (TGI). */
  dataPrefix: string;
  /** A chunk's JSON is head + JSON string of the text + tail (sse-chunks.ts jsonTextParts). */
  head: string;
  tail: string;
  /** Most bytes waiting for a client that does not read before the request fails. */
  maxBuffered: number;
  /** Writes what the backend had not written when the job ended (before anything else). */
  writeRest(bytes: Buffer): void;
};

/** A job the backend streamed to its socket, as it ended. */
export type StreamedOutcome = {
  tokens: Uint32Array;
  /** Per token: how long before the outcome arrived it was sampled (ms). */
  ages: Float64Array;
  text: string;
  finish: "stop" | "eos" | "length";
  /** The socket writer's state: anything but "open" failed the request. */
  writer: "open" | "client_gone" | "buffer_full" | "error";
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
  /**
   * Streamed by the backend to the client's socket (backends with `streamsToSockets`): no tokens
   * come from next(); streamed() tells how the job ended. `stops`: stop sequences; `stopTokens`:
   * tokens that end generation besides the model's end-of-generation tokens.
   */
  socketStream?: { target: SocketStreamTarget; stops: readonly string[]; stopTokens: readonly number[] };
};

export type TokenStream = {
  /** The next token, or undefined once the backend stopped (end of generation, max tokens, context full, cancelled). */
  next(): Promise<GeneratedToken | undefined>;
  /** Stops generating; resolves once the sequence is idle and cleared, so the slot can be reused. */
  close(): Promise<void>;
  /** Prompt tokens that came from the sequence's cache instead of being decoded (final after close). */
  cachedPromptTokens(): number;
  /** With `socketStream`, once next() said the end: how the job ended. */
  streamed?(): StreamedOutcome | undefined;
};

export type PreparedSampling = {
  /** The seed used (random when sampling without one), reported in TGI details. */
  seed: number | undefined;
};

export type DecodeBackend<P extends PreparedSampling = PreparedSampling> = {
  readonly name: EngineBackendName;
  /** Can stream a job's text to the client's socket itself (GenerationJob.socketStream). */
  readonly streamsToSockets?: boolean;
  /** Validates and compiles the sampling settings (logit bias, grammar) before admission. */
  prepare(parameters: SamplingRequest, promptTokens: readonly number[]): Promise<P>;
  generate(job: GenerationJob, sampling: P): TokenStream;
  decodeStats(): BatchGateStats;
  dispose(): Promise<void>;
};
