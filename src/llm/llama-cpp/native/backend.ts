/**
 * The native backend: the addon's GenerationLoop decodes and samples every sequence on one thread
 * (llama-server's design), and this adapter turns its per-step events into token streams.
 * node-llama-cpp still provides the tokenizer, chat template and detokenizer (its model is loaded
 * with `vocabOnly`, so the weights are loaded once, by the addon) and compiles JSON-schema grammars
 * to GBNF.
 */
import type { Llama, LlamaModel } from "node-llama-cpp";
import { AppError } from "../../../errors/index.js";
import {
  checkWatermarkSettings,
  DEFAULT_WATERMARK_DELTA,
  DEFAULT_WATERMARK_GAMMA,
  type WatermarkSettings,
} from "../../watermark/watermark-rule.js";
import type { BatchGateStats } from "../batch-gate.js";
import type {
  DecodeBackend,
  GeneratedToken,
  GenerationJob,
  PreparedSampling,
  StreamedOutcome,
  TokenLogprob,
  TokenStream,
} from "../decode-port.js";
import { controlTokensOf, createGrammarCache, logitBiasEntries, seedFor, vocabularySizeOf } from "../sampling.js";
import { GRAMMAR_DEAD_END_MESSAGE } from "../sampling-guard.js";
import { createNativeLoop, loadedLibllamaPath, type NativeSamplingParams } from "./addon.js";

type Prepared = PreparedSampling & { params: Omit<NativeSamplingParams, "maxTokens" | "logprobs"> };

export type NativeBackendOptions = {
  modelPath: string;
  contextSize: number;
  parallel: number;
  threads: number;
  threadsBatch: number;
  batchSize: number;
  flashAttention: boolean | "auto";
  onLoadProgress?: (fraction: number) => void;
  signal?: AbortSignal;
  loras?: ReadonlyArray<{ path: string; scale: number }>;
  /** llama.cpp contexts for concurrent adapter sets (NativeLoopOptions.contexts). */
  loraContexts?: number;
  /** How adapters are applied (NativeLoopOptions.loraMode). */
  loraMode?: "batched" | "contexts";
  /** The watermark of requests that ask for one; default TGI's (gamma 0.5, delta 2). */
  watermark?: WatermarkSettings;
};

export async function createNativeBackend(
  llama: Llama,
  vocabularyModel: LlamaModel,
  options: NativeBackendOptions,
): Promise<DecodeBackend<Prepared>> {
  const watermark = checkWatermarkSettings(
    options.watermark ?? { gamma: DEFAULT_WATERMARK_GAMMA, delta: DEFAULT_WATERMARK_DELTA },
  );
  const loop = await createNativeLoop(
    {
      libraryPath: loadedLibllamaPath(),
      modelPath: options.modelPath,
      contextSize: options.contextSize,
      sequences: options.parallel,
      batchSize: options.batchSize,
      threads: options.threads,
      threadsBatch: options.threadsBatch,
      flashAttention: options.flashAttention === "auto" ? "auto" : options.flashAttention ? "on" : "off",
      ...(options.loras === undefined ? {} : { loras: options.loras.map(({ path, scale }) => ({ path, scale })) }),
      ...(options.loraContexts === undefined ? {} : { contexts: options.loraContexts }),
      ...(options.loraMode === undefined ? {} : { loraMode: options.loraMode }),
    },
    {
      ...(options.onLoadProgress === undefined ? {} : { onProgress: options.onLoadProgress }),
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    },
  );
  const grammarFor = createGrammarCache(llama);
  const vocabularySize = vocabularySizeOf(vocabularyModel);
  let disposed = false;

  function generate(job: GenerationJob, prepared: Prepared): TokenStream {
    const queue: GeneratedToken[] = [];
    let ended = false;
    let cachedTokens = 0;
    let failure: AppError | undefined;
    let streamed: StreamedOutcome | undefined;
    const socketStream = job.socketStream;
    // The consumer's pending next(), settled straight from the loop's delivery (no hop between).
    let waiting: { resolve: (item: GeneratedToken | undefined) => void; reject: (error: AppError) => void } | undefined;
    let markDone: () => void = () => undefined;
    const done = new Promise<void>((resolve) => {
      markDone = resolve;
    });
    try {
      loop.start(
        job.slot,
        Uint32Array.from(job.promptTokens),
        {
          ...prepared.params,
          maxTokens: job.maxTokens,
          logprobs: job.logprobs,
          cachePrompt: job.cachePrompt,
          ...(job.topLogprobs !== undefined && job.topLogprobs > 0 ? { topLogprobs: job.topLogprobs } : {}),
          ...(job.promptLogprobs === true ? { promptLogprobs: true } : {}),
          ...(job.shareWith !== undefined && job.shareWith !== job.slot ? { shareWith: job.shareWith } : {}),
          ...(job.adapter >= 0 ? { adapter: job.adapter } : {}),
          ...(socketStream === undefined
            ? {}
            : {
                stream: {
                  fd: socketStream.target.fd,
                  maxBuffered: socketStream.target.maxBuffered,
                  head: socketStream.target.head,
                  tail: socketStream.target.tail,
                  dataPrefix: socketStream.target.dataPrefix,
                  chunked: socketStream.target.chunked,
                  stops: [...socketStream.stops],
                  stopTokens: Uint32Array.from(socketStream.stopTokens),
                },
              }),
        },
        // Runs inside the addon's per-step delivery: it must not throw.
        (token, logprob, reason, message, cached, top, promptLogprobs, outcome) => {
          if (cached !== undefined) cachedTokens = cached;
          if (outcome !== undefined) {
            // Before anything else is written to the response: the bytes the writer still held.
            if (outcome.unwritten.length > 0) socketStream?.target.writeRest(outcome.unwritten);
            const { unwritten: _, ...rest } = outcome;
            streamed = rest;
          }
          if (token !== undefined) {
            const item: GeneratedToken = { token, logprob: logprob ?? null };
            if (top !== undefined) item.top = topPairs(top);
            if (promptLogprobs !== undefined) item.promptLogprobs = Array.from(promptLogprobs);
            queue.push(item);
          }
          if (reason !== undefined) {
            ended = true;
            if (reason === "error") failure = loopFailure(message);
            markDone();
          }
          const consumer = waiting;
          if (consumer === undefined) return;
          const next = queue.shift();
          if (next === undefined && !ended) return;
          waiting = undefined;
          if (next === undefined && failure !== undefined) consumer.reject(failure);
          else consumer.resolve(next);
        },
      );
    } catch (error) {
      // Refused synchronously (the slot is busy, a token or the grammar is invalid): nothing started.
      throw new AppError("internal_error", `The native engine refused the request: ${messageOf(error)}`, {
        cause: error,
      });
    }

    // Cancellation frees the sequence at the loop's next step, without waiting for the consumer.
    const cancel = (): void => {
      if (!ended) loop.cancel(job.slot);
    };
    job.signal.addEventListener("abort", cancel, { once: true });
    if (job.signal.aborted) cancel();
    return {
      next() {
        const item = queue.shift();
        if (item !== undefined) return Promise.resolve(item);
        if (ended) return failure === undefined ? Promise.resolve(undefined) : Promise.reject(failure);
        return new Promise((resolve, reject) => {
          waiting = { resolve, reject };
        });
      },
      async close() {
        job.signal.removeEventListener("abort", cancel);
        // Tokens generated ahead (a stop sequence or stop token ended the text) are dropped; the
        // slot is reusable once the loop has cleared the sequence and said "done".
        cancel();
        await done;
      },
      cachedPromptTokens: () => cachedTokens,
      streamed: () => streamed,
    };
  }

  return {
    name: "native",
    streamsToSockets: true,
    async prepare(parameters) {
      const seed = seedFor(parameters);
      const params: Prepared["params"] = {};
      if (seed !== undefined) {
        params.temperature = parameters.temperature ?? 0;
        params.seed = seed;
        if (parameters.topK !== undefined) params.topK = parameters.topK;
        if (parameters.topP !== undefined) params.topP = parameters.topP;
        if (parameters.typicalP !== undefined) params.typicalP = parameters.typicalP;
      }
      if (parameters.repetitionPenalty !== undefined && parameters.repetitionPenalty !== 1) {
        params.repeatPenalty = parameters.repetitionPenalty;
      }
      if (parameters.frequencyPenalty) params.frequencyPenalty = parameters.frequencyPenalty;
      if (parameters.presencePenalty) params.presencePenalty = parameters.presencePenalty;
      const bias = logitBiasEntries(parameters, vocabularySize, controlTokensOf(vocabularyModel));
      if (bias.length > 0) params.logitBias = biasPairs(bias);
      if (parameters.ignoreEos === true) params.ignoreEos = true;
      if (parameters.watermark === true) {
        params.watermarkGamma = watermark.gamma;
        params.watermarkDelta = watermark.delta;
      }
      const grammarSource = parameters.grammar ?? parameters.jsonSchema;
      if (grammarSource !== undefined) {
        const grammar = await grammarFor(grammarSource);
        params.grammar = grammar.grammar;
        params.grammarRoot = grammar.rootRuleName;
      }
      return { seed, params };
    },
    generate,
    decodeStats(): BatchGateStats {
      const { decodes, tokens } = loop.stats();
      return { batches: decodes, tokens, emptyRounds: 0, forcedBatches: 0, itemsWithoutSequence: 0 };
    },
    async dispose() {
      if (disposed) return;
      disposed = true;
      // Joins the loop thread; running jobs end with "cancelled" (delivered on later turns).
      loop.dispose();
    },
  };
}

/** (token, bias) entries as the loop takes them, flat; without `.flat()` (60 µs for 300 entries). */
function biasPairs(entries: ReadonlyArray<readonly [number, number]>): Float64Array {
  const pairs = new Float64Array(entries.length * 2);
  for (let index = 0; index < entries.length; index += 1) {
    const entry = entries[index];
    if (entry === undefined) continue;
    pairs[index * 2] = entry[0];
    pairs[index * 2 + 1] = entry[1];
  }
  return pairs;
}

function topPairs(pairs: Float64Array): TokenLogprob[] {
  const top: TokenLogprob[] = [];
  for (let index = 0; index + 1 < pairs.length; index += 2) {
    top.push({ token: pairs[index] ?? 0, logprob: pairs[index + 1] ?? 0 });
  }
  return top;
}

/** native/src/grammar-sampling.h: kGrammarDeadEndMessage starts with it. */
const GRAMMAR_DEAD_END = "grammar_dead_end:";

/** A job the loop ended with an error: the client's mistake (422) or the engine's (500). */
function loopFailure(message: string | undefined): AppError {
  if (message?.startsWith(GRAMMAR_DEAD_END) === true) {
    return new AppError("validation_error", GRAMMAR_DEAD_END_MESSAGE);
  }
  return new AppError("internal_error", `llama.cpp failed: ${message ?? "unknown error"}`);
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
