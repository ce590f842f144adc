/**
 * The in-process llama.cpp engine: one model, ONE context with N sequences (continuous batching:
 * every sequence that has a token to decode joins the same llama_decode batch), admission control
 * in front of the sequences, and a generation loop per request that applies limits, stop
 * sequences, incremental detokenization, cancellation and timeouts.
 */
import os from "node:os";
import path from "node:path";
import {
  getLlama,
  type Llama,
  type LlamaContext,
  type LlamaContextSequence,
  type LlamaModel,
  type Token,
} from "node-llama-cpp";
import { AppError } from "../../errors/index.js";
import type { FinishReason } from "../port.js";
import { type Admission, abortedError, createAdmission } from "./admission.js";
import { type BatchGate, createBatchGate } from "./batch-gate.js";
import type { EngineEvent, EngineRequest, LlamaCppEngine, LlamaCppEngineOptions } from "./engine-types.js";
import { checkTokenLimits, type TokenLimits } from "./limits.js";
import { createPromptBuilder, type PromptBuilder } from "./prompt.js";
import { createSequenceResolver } from "./queued-sequences.js";
import { defaultThreads, describeRuntime, type LlamaRuntime } from "./runtime.js";
import { createSamplingFactory, type SamplingFactory } from "./sampling.js";
import { createIncrementalDetokenizer, createStopMatcher } from "./text-output.js";

export type {
  EngineEvent,
  EngineObserver,
  EngineRequest,
  EngineStats,
  LlamaCppEngine,
  LlamaCppEngineOptions,
} from "./engine-types.js";

type Slot = { sequence: LlamaContextSequence; index: number };

export async function createLlamaCppEngine(options: LlamaCppEngineOptions): Promise<LlamaCppEngine> {
  const parallel = options.parallel ?? 4;
  // Threads are always set explicitly: node-llama-cpp's own default was ~400× slower on 2 cores.
  const llama = await getLlama({
    gpu: false,
    build: "never",
    maxThreads: Math.max(options.threads ?? 1, os.availableParallelism()),
    logLevel: "error" as never,
  });
  const runtime = describeRuntime(llama);
  const threads = options.threads ?? defaultThreads(runtime);
  let model: LlamaModel | undefined;
  let context: LlamaContext | undefined;
  try {
    model = await llama.loadModel({
      modelPath: options.modelPath,
      gpuLayers: 0,
      ...(options.onLoadProgress === undefined ? {} : { onLoadProgress: options.onLoadProgress }),
    });
    const maxTotalTokens =
      options.maxTotalTokens ?? Math.min(2048, model.trainContextSize, options.contextSize ?? Number.POSITIVE_INFINITY);
    const contextSize = options.contextSize ?? maxTotalTokens;
    if (maxTotalTokens > contextSize) {
      throw new AppError(
        "configuration_error",
        `max total tokens (${maxTotalTokens}) cannot exceed the context size per sequence (${contextSize})`,
      );
    }
    const batchSize = options.batchSize ?? 512;
    const sequences = createSequenceResolver();
    const gate = createBatchGate({ sequenceOf: sequences.sequenceOf });
    context = await model.createContext({
      contextSize,
      sequences: parallel,
      threads,
      batchSize,
      flashAttention: options.flashAttention ?? "auto",
      batching: { itemPrioritizationStrategy: gate.prioritize },
    });
    sequences.attach(context);
    return buildEngine({ llama, model, context, gate, options, runtime, threads, parallel, batchSize, maxTotalTokens });
  } catch (error) {
    await context?.dispose();
    await model?.dispose();
    await llama.dispose();
    if (error instanceof AppError) throw error;
    throw new AppError("model_not_found", `Could not load the model ${options.modelPath}: ${messageOf(error)}`, {
      cause: error,
    });
  }
}

type BuildInput = {
  llama: Llama;
  model: LlamaModel;
  context: LlamaContext;
  gate: BatchGate;
  options: LlamaCppEngineOptions;
  runtime: LlamaRuntime;
  threads: number;
  parallel: number;
  batchSize: number;
  maxTotalTokens: number;
};

function buildEngine(input: BuildInput): LlamaCppEngine {
  const { llama, model, context, gate, options, parallel } = input;
  const maxQueue = options.maxQueue ?? parallel;
  const maxConcurrentRequests = options.maxConcurrentRequests ?? parallel + maxQueue;
  const limits: TokenLimits = {
    maxTotalTokens: input.maxTotalTokens,
    maxInputTokens: options.maxInputTokens ?? Math.min(1024, input.maxTotalTokens - 1),
    maxNewTokens: options.maxNewTokens ?? input.maxTotalTokens - 1,
  };
  const requestTimeoutMs = options.requestTimeoutMs ?? 60_000;
  const slots: Slot[] = [];
  for (let index = 0; index < parallel; index += 1) slots.push({ sequence: context.getSequence(), index });
  const admission: Admission<Slot> = createAdmission(slots, { slots: parallel, maxQueue, maxConcurrentRequests });
  const prompts: PromptBuilder = createPromptBuilder(model);
  const sampling: SamplingFactory = createSamplingFactory(llama, model);
  const observer = options.observer ?? {};
  const running = new Set<AbortController>();
  const idleWaiters: Array<() => void> = [];
  let pendingRequests = 0;
  let activeGenerations = 0;
  let disposed = false;
  const modelId = options.modelId ?? path.basename(options.modelPath).replace(/\.gguf$/i, "");
  const metadataTokens = (model.fileInfo.metadata as { tokenizer?: { ggml?: { tokens?: readonly unknown[] } } })
    .tokenizer?.ggml?.tokens;

  function settle(): void {
    pendingRequests -= 1;
    if (pendingRequests === 0) for (const resolve of idleWaiters.splice(0)) resolve();
  }

  function promptFor(request: EngineRequest): { tokens: number[]; stopTokenIds: number[]; stopTexts: string[] } {
    const built = prompts.build(request.input);
    const truncate = request.parameters.truncate;
    if (truncate !== undefined && truncate > 0 && built.tokens.length > truncate) {
      built.tokens = built.tokens.slice(built.tokens.length - truncate);
    }
    return built;
  }

  async function* run(request: EngineRequest): AsyncGenerator<EngineEvent, void, void> {
    if (disposed) throw new AppError("shutting_down", "The model is shutting down");
    const parameters = request.parameters;
    const prompt = promptFor(request);
    const maxNewTokens = checkTokenLimits(limits, prompt.tokens.length, parameters.maxNewTokens);
    // Sampling is set up (logit bias checked, grammar compiled) before admission, so invalid
    // requests are refused without taking a sequence.
    const generated: number[] = [];
    const setup = await sampling.create(parameters, () => prompt.tokens.concat(generated));
    setup.options.yieldEogToken = true;
    const controller = new AbortController();
    const signals = [controller.signal];
    if (request.signal !== undefined) signals.push(request.signal);
    const timeout = requestTimeoutMs > 0 ? AbortSignal.timeout(requestTimeoutMs) : undefined;
    if (timeout !== undefined) signals.push(timeout);
    const signal = AbortSignal.any(signals);
    const cancelled = (): AppError =>
      timeout?.aborted === true
        ? new AppError("timeout", `The request exceeded the ${requestTimeoutMs} ms timeout`)
        : abortedError(request.signal?.aborted === true ? request.signal : controller.signal);

    pendingRequests += 1;
    running.add(controller);
    const queuedAt = performance.now();
    let slot: Slot | undefined;
    let promptTokens = prompt.tokens.length;
    let completionTokens = 0;
    let finishReason: FinishReason | "error" = "error";
    try {
      try {
        slot = await admission.acquire(signal);
      } catch (error) {
        throw signal.aborted ? cancelled() : error;
      }
      const queueMs = performance.now() - queuedAt;
      observer.onQueued?.(queueMs);
      yield { type: "start", promptTokens, promptTokenIds: prompt.tokens, queueMs, seed: setup.seed };

      const stopTokens = new Set(prompt.stopTokenIds);
      const detokenizer = createIncrementalDetokenizer((tokens, lastTokens) =>
        model.detokenize(tokens as Token[], false, lastTokens as Token[]),
      );
      const stopMatcher = createStopMatcher([...(parameters.stop ?? []), ...prompt.stopTexts]);
      const wantLogprobs = parameters.logprobs === true;
      const evaluation = slot.sequence.evaluateWithMetadata(
        prompt.tokens as Token[],
        wantLogprobs ? { confidence: true } : {},
        setup.options,
      );
      type Step = IteratorResult<{ token: Token; confidence?: number }>;
      // Counted by the batch gate from the first request for a token until no more will follow.
      let asking = false;
      const stopAsking = (): void => {
        if (asking) gate.generationEnded();
        asking = false;
      };
      const askForToken = (): Promise<Step> => {
        if (!asking) gate.generationStarted();
        asking = true;
        return evaluation.next() as Promise<Step>;
      };
      let text = "";
      let lastTokenAt = performance.now();
      let reason: FinishReason = "eos";
      let flushed = false;
      activeGenerations += 1;
      // The next token is asked for as soon as this one arrives, before it is detokenized and
      // handed to the consumer: the sequence's next decode is queued within a few microtasks, so
      // it joins the same batch as the other sequences' (see batch-gate.ts).
      let pending: Promise<Step> | undefined = askForToken();
      try {
        while (pending !== undefined) {
          let step: Step;
          try {
            step = await pending;
          } finally {
            pending = undefined;
          }
          if (step.done === true) break;
          const item = step.value;
          const token = item.token;
          const endOfGeneration = stopTokens.has(token) || model.isEogToken(token);
          const first = generated.length === 0;
          // Pushed before the next token is asked for: the repetition penalty reads this history.
          generated.push(token);
          completionTokens = generated.length;
          const last = endOfGeneration || generated.length >= maxNewTokens;
          if (!last && !signal.aborted) pending = askForToken();
          else stopAsking();
          if (signal.aborted) throw cancelled();
          const now = performance.now();
          if (first) observer.onFirstToken?.(now - queuedAt);
          else observer.onInterToken?.(now - lastTokenAt);
          lastTokenAt = now;
          const logprob = item.confidence === undefined ? null : Math.log(item.confidence);
          // The last token's event carries everything still held back (incomplete characters,
          // possible stop-sequence prefixes), so the events always add up to the generated text.
          const raw = endOfGeneration
            ? detokenizer.flush()
            : detokenizer.push(token) + (last ? detokenizer.flush() : "");
          const piece = stopMatcher.push(raw);
          const pieceText = last && !piece.stopped ? piece.text + stopMatcher.flush() : piece.text;
          text += pieceText;
          yield { type: "token", id: token, text: pieceText, logprob, special: endOfGeneration };
          if (!piece.stopped && !last) continue;
          flushed = true;
          reason = piece.stopped || stopTokens.has(token) ? "stop" : endOfGeneration ? "eos" : "length";
          break;
        }
        if (signal.aborted) throw cancelled();
      } finally {
        activeGenerations -= 1;
        stopAsking();
        // A token asked for ahead (a stop sequence ended the text, or cancellation) is awaited
        // and dropped, so that the sequence is idle before it is cleared and reused.
        if (pending !== undefined) await pending.catch(() => undefined);
        await evaluation.return(undefined);
      }
      if (!flushed) {
        // The evaluation ended without an end-of-generation token (context exhausted).
        const tail = stopMatcher.push(detokenizer.flush());
        text += tail.text;
        if (tail.stopped) reason = "stop";
        else text += stopMatcher.flush();
      }
      finishReason = reason;
      promptTokens = prompt.tokens.length;
      yield {
        type: "done",
        finishReason: reason,
        generatedText: text,
        promptTokens,
        completionTokens,
        seed: setup.seed,
      };
    } finally {
      running.delete(controller);
      if (slot !== undefined) {
        const released = slot;
        await released.sequence.clearHistory().catch(() => undefined);
        admission.release(released);
      }
      observer.onFinished?.({ promptTokens, completionTokens, finishReason });
      settle();
    }
  }

  return {
    modelId,
    limits,
    info: {
      modelPath: options.modelPath,
      parallel,
      threads: input.threads,
      runtime: input.runtime,
      batchSize: input.batchSize,
      maxQueue,
      maxConcurrentRequests,
      get chatTemplate() {
        return prompts.chatTemplateName;
      },
      vocabularySize: metadataTokens?.length,
    },
    run,
    detokenize(tokens, special = false) {
      return model.detokenize(tokens as Token[], special);
    },
    countTokens(languageModelInput) {
      return prompts.build(languageModelInput).tokens.length;
    },
    stats() {
      return {
        sequencesTotal: parallel,
        sequencesInUse: admission.inUse,
        queueSize: admission.queued,
        activeGenerations,
        decode: gate.stats(),
      };
    },
    get disposed() {
      return disposed;
    },
    stopAdmitting() {
      admission.close(new AppError("shutting_down", "The server is shutting down", { retryable: true }));
    },
    idle() {
      if (pendingRequests === 0) return Promise.resolve();
      return new Promise((resolve) => idleWaiters.push(resolve));
    },
    async dispose() {
      if (disposed) return;
      disposed = true;
      admission.close(new AppError("shutting_down", "The model is shutting down", { retryable: true }));
      for (const controller of running) controller.abort(new AppError("shutting_down", "The model is shutting down"));
      await context.dispose();
      await model.dispose();
      await llama.dispose();
    },
  };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
