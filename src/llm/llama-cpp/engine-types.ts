import type { FinishReason, GenerationParameters, LanguageModelInput } from "../port.js";
import type { WatermarkSettings } from "../watermark/watermark-rule.js";
import type { BatchGateStats } from "./batch-gate.js";
import type { EngineBackendName, SocketStreamTarget } from "./decode-port.js";
import type { TokenLimits } from "./limits.js";
import type { LoraMode, LoraModeDecision } from "./lora-mode.js";
import type { LlamaRuntime } from "./runtime.js";

export type LlamaCppEngineOptions = {
  modelPath: string;
  /** Reported to clients; defaults to the file name without extension. */
  modelId?: string;
  /**
   * Who decodes and samples: "native" (the addon in native/, decode + sampling of every sequence on
   * one thread, like llama-server) or "node-llama-cpp". Default: "native" when the addon is built
   * (npm run build:native), else "node-llama-cpp".
   */
  backend?: EngineBackendName;
  /**
   * llama.cpp threads for one-token decodes (a single sequence generating); default: every core
   * with an OpenMP build, else cores − 1 (see runtime.ts).
   */
  threads?: number;
  /**
   * Threads for prompt processing and decodes of several sequences together (llama.cpp's
   * n_threads_batch; the native engine only, node-llama-cpp uses `threads` for both). Default:
   * `threads` when it is given, else every core.
   */
  threadsBatch?: number;
  /** Context sequences decoded together (continuous batching); default 4. */
  parallel?: number;
  /** Tokens per llama_decode call; default 512. */
  batchSize?: number;
  /**
   * llama.cpp's flash attention, as llama-server's `-fa`; default "auto" (on where the model and
   * backend support it). Measured: ~15% less CPU per token with 4 sequences on the bench model.
   */
  flashAttention?: boolean | "auto";
  /** Requests waiting for a sequence; default = parallel. */
  maxQueue?: number;
  /** Running + waiting requests; default = parallel + maxQueue. */
  maxConcurrentRequests?: number;
  /** Tokens of context per sequence; default maxTotalTokens. */
  contextSize?: number;
  /** Input + new tokens per request; default min(2048, model's train context, contextSize). */
  maxTotalTokens?: number;
  /** Default min(1024, maxTotalTokens - 1). */
  maxInputTokens?: number;
  /** Default maxTotalTokens - 1. */
  maxNewTokens?: number;
  /**
   * Prompt (prefix) caching: a sequence keeps its KV after a request, a request takes the free
   * sequence sharing the longest prefix with its prompt and decodes only the rest. Default true;
   * a request can opt out with `cachePrompt: false`.
   */
  promptCache?: boolean;
  /**
   * Native streaming (docs/llm-service.md): eligible streamed requests have their text written to
   * the client's socket by the native engine's writer thread, not token by token from JavaScript.
   * Default true; only with the native backend.
   */
  nativeStreaming?: boolean;
  /** Most bytes of a natively streamed response waiting for a client that does not read; default 1 MiB. */
  nativeStreamBuffer?: number;
  /**
   * LoRA adapters loaded with the model, selected per request by name (native engine only).
   * `scale` multiplies the adapter's update (0 = the base model's output).
   */
  loras?: ReadonlyArray<LoraAdapter>;
  /**
   * Most sequences one request may ask for (OpenAI `n`, TGI `best_of`); each takes a sequence, so
   * it is also bounded by `parallel`. Default 8.
   */
  maxChoices?: number;
  /**
   * The watermark applied to requests that ask for it (TGI `watermark: true`; native engine only):
   * green-list fraction and logit boost. Default TGI's: gamma 0.5, delta 2.
   */
  watermark?: WatermarkSettings;
  /**
   * llama.cpp contexts (sharing the model, each with its own KV memory) in which requests for
   * different adapters decode concurrently. Default: 2 with adapters (base + one adapter, or two
   * adapters, at full batch), else 1; more adapter sets in use than contexts take turns.
   */
  loraContexts?: number;
  /**
   * How adapters are applied (lora-mode.ts): "batched" per token inside one decode of one context,
   * "contexts" per context (`loraContexts` of them), "auto" (default) batched when every adapter
   * allows it, else contexts. `loraContexts` applies to contexts mode only.
   */
  loraMode?: LoraMode;
  /** Called once adapters are checked, with the mode chosen and the contexts it uses (to log it). */
  onLoraMode?: (decision: LoraModeDecision, contexts: number) => void;
  /** Per request, queue wait included; 0 disables. Default 60 000 ms (SageMaker's invocation limit). */
  requestTimeoutMs?: number;
  onLoadProgress?: (fraction: number) => void;
  /** Aborting cancels loading the model (createLlamaCppEngine rejects, nothing stays loaded). */
  signal?: AbortSignal;
  observer?: EngineObserver;
};

export type LoraAdapter = { name: string; path: string; scale: number };

export type EngineObserver = {
  onQueued?(queueMs: number): void;
  /**
   * `activeGenerations`: the requests generating at this moment, this one included. `prefillMs`:
   * from admission (a sequence acquired) to the first token, the prompt's decode.
   */
  onFirstToken?(ttftMs: number, activeGenerations: number, prefillMs: number): void;
  onInterToken?(ms: number, activeGenerations: number): void;
  /**
   * After each token's event was taken by the consumer: `textMs` turning the token into text
   * (detokenization, stop sequences), `deliveryMs` from handing the event over until the consumer
   * asked for the next one (serialization, the write to the client).
   */
  onTokenDelivered?(first: boolean, textMs: number, deliveryMs: number): void;
  /** A streamed response whose text the native engine wrote to the socket (native streaming). */
  onNativeStream?(): void;
  onFinished?(summary: {
    promptTokens: number;
    /** Of promptTokens, those served from the prompt cache. */
    cachedPromptTokens: number;
    completionTokens: number;
    finishReason: FinishReason | "error";
    /** From admission (a sequence acquired) to the end; 0 when never admitted. */
    inferenceMs?: number;
    /** From the first generated token to the last (the decode steps after the prompt's); 0 below 2 tokens. */
    decodeMs?: number;
    /** The request's token budget: its max_new_tokens, or what the limits left it. */
    maxNewTokens?: number;
  }): void;
};

export type EngineRequest = {
  input: LanguageModelInput;
  parameters: GenerationParameters & {
    /** Report each token's log-probability (costs a little per token). */
    logprobs?: boolean;
    /** Keep only the last `truncate` input tokens (TGI's `truncate`). */
    truncate?: number;
    /** Never sample end-of-generation tokens (vLLM's and llama-server's `ignore_eos`, for benchmarks). */
    ignoreEos?: boolean;
    /** llama-server's `cache_prompt`: false decodes the whole prompt again. Default true. */
    cachePrompt?: boolean;
    /** The name of a LoRA adapter (LlamaCppEngineOptions.loras); unknown names are `unknown_adapter`. */
    adapter?: string;
    /** Report the `topLogprobs` most likely tokens with each token (0–20). */
    topLogprobs?: number;
    /** Report each token's own text (`piece`) with its event, as OpenAI's logprobs list tokens. */
    tokenPieces?: boolean;
    /** Report each prompt token's logprob in `done` (TGI's prefill details); no prompt cache then. */
    promptLogprobs?: boolean;
    /** n > 1: requests of one group share the prompt's KV (see engine-choices.ts). */
    choiceGroup?: ChoiceGroup;
  };
  signal?: AbortSignal;
  /**
   * Asked once generation is about to start (after the "start" event was taken): where the
   * backend may write the text chunks itself (native streaming). Undefined: token events as usual.
   */
  socketStream?: () => SocketStreamHandle | undefined;
};

/** The response side of native streaming: the engine adds its buffer limit. */
export type SocketStreamHandle = Omit<SocketStreamTarget, "maxBuffered">;

/** The requests of one n > 1 request; the first to start generating lends its prompt KV. */
export type ChoiceGroup = { slot?: number };

/** A candidate token with its log-probability under the model's raw distribution. */
export type TopToken = {
  id: number;
  text: string;
  logprob: number;
  /** An end-of-generation token (as the token event's `special`). */
  special: boolean;
};

/** The most alternatives per token `topLogprobs` (OpenAI's top_logprobs, TGI's top_n_tokens) may ask for. */
export const MAX_TOP_LOGPROBS = 20;

export type EngineEvent =
  | {
      type: "start";
      promptTokens: number;
      promptTokenIds: readonly number[];
      queueMs: number;
      seed: number | undefined;
    }
  | {
      type: "token";
      id: number;
      text: string;
      logprob: number | null;
      special: boolean;
      /** With logprobs: the token's own text (`text` is what the stream shows, after stop sequences). */
      piece?: string;
      /** With `topLogprobs` > 0: the most likely tokens at this position, most likely first. */
      top?: readonly TopToken[];
    }
  | {
      type: "done";
      finishReason: FinishReason;
      generatedText: string;
      promptTokens: number;
      /** Of promptTokens, those served from the prompt cache (not decoded again). */
      cachedPromptTokens: number;
      completionTokens: number;
      seed: number | undefined;
      /** With `promptLogprobs`: one per prompt token, the first null (nothing precedes it). */
      promptLogprobs?: ReadonlyArray<number | null>;
    };

export type EngineStats = {
  sequencesTotal: number;
  sequencesInUse: number;
  queueSize: number;
  /** Sequences that produced a token within the current decode cycle (≈ batch size). */
  activeGenerations: number;
  /** llama_decode batches since start (see batch-gate.ts). */
  decode: BatchGateStats;
};

export type LlamaCppEngine = {
  readonly modelId: string;
  readonly limits: TokenLimits;
  readonly info: {
    modelPath: string;
    parallel: number;
    threads: number;
    /** Threads for prompts and multi-sequence decodes (= threads with node-llama-cpp). */
    threadsBatch: number;
    /** The backend that decodes and samples (see LlamaCppEngineOptions.backend). */
    engine: EngineBackendName;
    /** Which llama.cpp binary is loaded (local OpenMP build or portable prebuilt). */
    runtime: LlamaRuntime;
    batchSize: number;
    maxQueue: number;
    maxConcurrentRequests: number;
    chatTemplate: string;
    /** The chat template renders OpenAI `tools` itself (see prompt.ts); else a system-message fallback. */
    chatTemplateTools: boolean;
    vocabularySize: number | undefined;
    /** Prompt (prefix) caching on (see LlamaCppEngineOptions.promptCache). */
    promptCache: boolean;
    /** LoRA adapters requests can select. */
    adapters: ReadonlyArray<{ name: string; scale: number }>;
    /** Most choices per request (LlamaCppEngineOptions.maxChoices). */
    maxChoices: number;
  };
  run(request: EngineRequest): AsyncGenerator<EngineEvent, void, void>;
  countTokens(input: LanguageModelInput): number;
  /**
   * Token ids of a text (llama-server's /tokenize): `parseSpecial` (default true) reads control
   * tokens written as text; `addSpecial` (default false) prepends BOS when the model wants one.
   */
  tokenize(text: string, options?: { addSpecial?: boolean; parseSpecial?: boolean }): number[];
  /**
   * The text each token contributes to `detokenize(tokens, true)` (control tokens included), so
   * the pieces join back to it; a piece that is not UTF-8 alone (a byte of a split character): its bytes.
   */
  pieces(tokens: readonly number[]): Array<string | number[]>;
  /** Text of tokens; `special` renders control tokens (BOS, <|im_start|>...) as text. */
  detokenize(tokens: readonly number[], special?: boolean): string;
  stats(): EngineStats;
  /** True once dispose() has been called. */
  readonly disposed: boolean;
  /** Refuse new requests (graceful shutdown); in-flight requests continue. */
  stopAdmitting(): void;
  /** Resolves when no request is running or waiting. */
  idle(): Promise<void>;
  dispose(): Promise<void>;
};
