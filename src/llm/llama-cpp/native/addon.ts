/**
 * Loading the native generation loop (native/, built by `npm run build:native`) and finding the
 * libllama it must use: the one node-llama-cpp has already loaded into this process.
 */
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { AppError } from "../../../errors/index.js";
import type { StreamedOutcome } from "../decode-port.js";
import { readMaps } from "../runtime.js";

/** What one decode step reports for a job: a token, its log-probability, and/or the end. */
export type NativeEventHandler = (
  token: number | undefined,
  logprob: number | undefined,
  done: "eos" | "length" | "cancelled" | "error" | undefined,
  error: string | undefined,
  /** With `done`: the prompt tokens served from the slot's cache (not decoded again). */
  cachedTokens: number | undefined,
  /** With a token when `topLogprobs` > 0: (token, logprob) pairs, most likely first. */
  top?: Float64Array,
  /** With the first token when `promptLogprobs` is set: the logprobs of prompt tokens 1…n−1. */
  promptLogprobs?: Float64Array,
  /** With `done` of a job started with `stream`: how it ended (native/src/native-stream.h). */
  streamed?: NativeStreamOutcome,
) => void;

/** A streamed job as it ended: StreamedOutcome plus the bytes the writer had not written. */
export type NativeStreamOutcome = StreamedOutcome & { unwritten: Buffer };

/** start()'s `stream`: the job's chunks are written to the socket by the addon's writer thread. */
export type NativeStreamParams = {
  fd: number;
  maxBuffered: number;
  head: string;
  tail: string;
  dataPrefix: string;
  chunked: boolean;
  stops: string[];
  stopTokens: Uint32Array;
};

export type NativeSamplingParams = {
  temperature?: number;
  topK?: number;
  topP?: number;
  seed?: number;
  repeatPenalty?: number;
  /** Locally typical sampling's mass (0–1; 1 = off), when sampling. */
  typicalP?: number;
  /** OpenAI's frequency and presence penalties (−2…2), over the generated tokens only. */
  frequencyPenalty?: number;
  presencePenalty?: number;
  /**
   * TGI's watermark (native/src/watermark-sampling.h): the green-list fraction (0 < γ < 1; unset or
   * 0 = no watermark) and the boost added to green logits, before every other sampler.
   */
  watermarkGamma?: number;
  watermarkDelta?: number;
  /** (token, bias) pairs; −Infinity bans. */
  logitBias?: Float64Array;
  ignoreEos?: boolean;
  logprobs?: boolean;
  /** The most likely tokens to report with each generated token, 0–20 (raw model distribution). */
  topLogprobs?: number;
  /** Compute every prompt position's logits to report each prompt token's logprob (no prompt cache). */
  promptLogprobs?: boolean;
  /**
   * n > 1: the slot of a sibling job with the same prompt; this job copies its prompt KV
   * (llama_memory_seq_cp) instead of decoding the prompt again.
   */
  shareWith?: number;
  /** Index into NativeLoopOptions.loras of the LoRA adapter to decode with; default none (the base). */
  adapter?: number;
  /** Reuse the longest common prefix of the slot's cached tokens; default true. */
  cachePrompt?: boolean;
  maxTokens: number;
  /** Streamed by the addon to a socket (the native streaming fast path). */
  stream?: NativeStreamParams;
  grammar?: string;
  grammarRoot?: string;
};

export type NativeGenerationLoop = {
  start(slot: number, promptTokens: Uint32Array, params: NativeSamplingParams, onEvent: NativeEventHandler): number;
  cancel(slot: number): void;
  dispose(): void;
  /**
   * Counters since the loop started: decode steps, tokens decoded, tokens sampled under a grammar,
   * and of those the ones whose first choice the grammar refused (the grammar then ran over the
   * vocabulary: native/src/grammar-sampling.h).
   */
  stats(): { decodes: number; tokens: number; grammarTokens: number; grammarRetries: number };
};

export type NativeLoopOptions = {
  libraryPath: string;
  modelPath: string;
  /** Tokens of context per sequence. */
  contextSize: number;
  sequences: number;
  batchSize: number;
  /** Threads for one-token decodes (one sequence generating). */
  threads: number;
  /** Threads for prompts and decodes of several sequences; default: threads. */
  threadsBatch?: number;
  flashAttention: "auto" | "on" | "off";
  /**
   * Deliveries (token events, readiness) waiting for the JavaScript thread before the loop waits
   * for it to catch up; progress reports beyond it are dropped. Default 64.
   */
  maxPendingDeliveries?: number;
  /** LoRA adapters loaded with the model (refused at load when made for another base model). */
  loras?: ReadonlyArray<{ path: string; scale: number }>;
  /**
   * llama.cpp contexts sharing the model, each with its own KV memory for every sequence and its
   * own adapter set: jobs of different adapters decode in different contexts, concurrently (the
   * threads split among them). Default 1 (the adapters in use take turns in one context).
   */
  contexts?: number;
  /**
   * How LoRA adapters are applied: "contexts" (default) sets an adapter on a whole context
   * (`contexts` of them); "batched" applies each token's adapter inside one decode of one context
   * (native/src/batched-lora.h; F32/F16 adapters on matrix-multiplied weights only, `contexts` 1).
   */
  loraMode?: "contexts" | "batched";
};

export type CreateNativeLoopOptions = {
  onProgress?: (fraction: number) => void;
  /** Aborting disposes the loop: loading is cancelled and the promise rejects. */
  signal?: AbortSignal;
};

/**
 * onReady's code when the model loaded but the LoRA configuration (--lora, --lora-mode,
 * --lora-contexts) cannot be served: the same string is kLoraRefused in native/src/generation-loop.h.
 */
const LORA_REFUSED = "lora_refused";

type Addon = {
  GenerationLoop: new (
    options: NativeLoopOptions,
    /** `code` with an error: LORA_REFUSED, or undefined for the model itself. */
    onReady: (error?: string, code?: string) => void,
    onProgress?: (fraction: number) => void,
  ) => NativeGenerationLoop;
  /** Stops every loop's thread (a decode in flight ends first); nothing is delivered afterwards. */
  stopLiveLoops(): void;
};

const ADDON_FILE = "llm_twin_native.node";

/** native/build/Release/llm_twin_native.node of this checkout (from src/ or dist/). */
export function nativeAddonPath(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  return path.resolve(here, "../../../../native/build/Release", ADDON_FILE);
}

export function nativeAddonBuilt(): boolean {
  return existsSync(nativeAddonPath());
}

let addon: Addon | undefined;

function loadAddon(): Addon {
  if (addon === undefined) {
    const file = nativeAddonPath();
    if (!existsSync(file)) {
      throw new AppError("configuration_error", `The native engine is not built (${file}): run npm run build:native`);
    }
    const loaded = createRequire(import.meta.url)(file) as Addon;
    // process.exit() and uncaught exceptions skip the cleanup hooks that stop the loops; a loop
    // still decoding while the process tears llama.cpp down crashed it (exit code 139).
    process.on("exit", () => loaded.stopLiveLoops());
    addon = loaded;
  }
  return addon;
}

/** The libllama shared object mapped into this process (after node-llama-cpp's getLlama()). */
export function loadedLibllamaPath(maps: string = readMaps()): string {
  for (const line of maps.split("\n")) {
    const file = line.slice(line.indexOf("/"));
    if (line.includes("/") && /\/libllama(\.v[\d.]+)?\.so$/.test(file)) return file;
  }
  throw new AppError("configuration_error", "libllama is not loaded: node-llama-cpp must load llama.cpp first");
}

/**
 * Loads the model on the loop's own thread; resolves when it is ready to start jobs. Aborting
 * `signal` cancels the load (at llama.cpp's next progress report) and rejects with the reason.
 */
export function createNativeLoop(
  options: NativeLoopOptions,
  { onProgress, signal }: CreateNativeLoopOptions = {},
): Promise<NativeGenerationLoop> {
  const { GenerationLoop } = loadAddon();
  if (signal?.aborted) return Promise.reject(abortReason(signal));
  return new Promise((resolve, reject) => {
    let loop: NativeGenerationLoop | undefined;
    let outcome: { error: string | undefined; code: string | undefined } | undefined;
    const onAbort = (): void => loop?.dispose();
    const settle = (): void => {
      if (loop === undefined || outcome === undefined) return;
      signal?.removeEventListener("abort", onAbort);
      if (signal?.aborted) reject(abortReason(signal));
      else if (outcome.error === undefined) resolve(loop);
      else {
        loop.dispose();
        // The model loaded but an adapter did not: the configuration (--lora, --lora-mode) is at fault.
        reject(
          outcome.code === LORA_REFUSED
            ? new AppError("configuration_error", `Could not serve the LoRA adapters: ${outcome.error}`)
            : new AppError("model_not_found", `Could not load the model ${options.modelPath}: ${outcome.error}`),
        );
      }
    };
    // The ready callback always arrives on a later event-loop turn, after the constructor returned;
    // after dispose() it reports an error, never success.
    loop = new GenerationLoop(
      options,
      (error, code) => {
        outcome = { error, code };
        settle();
      },
      onProgress,
    );
    signal?.addEventListener("abort", onAbort, { once: true });
    settle();
  });
}

function abortReason(signal: AbortSignal): AppError {
  const reason: unknown = signal.reason;
  if (reason instanceof AppError) return reason;
  return new AppError("aborted", "Loading the model was cancelled", { cause: reason });
}
