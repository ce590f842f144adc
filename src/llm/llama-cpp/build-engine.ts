import path from "node:path";
import type { LlamaModel, Token } from "node-llama-cpp";
import { AppError } from "../../errors/index.js";
import type { FinishReason } from "../port.js";
import { type Admission, abortedError, commonPrefixLength, createAdmission } from "./admission.js";
import type { DecodeBackend, GeneratedToken } from "./decode-port.js";
import type { EngineEvent, EngineRequest, LlamaCppEngine, LlamaCppEngineOptions } from "./engine-types.js";
import { checkTokenLimits, type TokenLimits } from "./limits.js";
import { createPromptBuilder, type PromptBuilder, truncatePrompt } from "./prompt.js";
import type { LlamaRuntime } from "./runtime.js";
import { nativeStreamBufferOf, settleStreamed, socketStreamTarget } from "./socket-stream.js";
import { createIncrementalDetokenizer, createStopMatcher } from "./text-output.js";
import { tokenPieces } from "./token-pieces.js";
import { checkTokenProbabilities } from "./token-probabilities.js";

/** A sequence, and the tokens its KV holds after its last request (for prompt caching). */
type Slot = { index: number; tokens: readonly number[]; adapter: number };

/** Most sequences one request may ask for (OpenAI `n`, TGI `best_of`) unless --max-n says otherwise. */
export const DEFAULT_MAX_CHOICES = 8;

export type BuildInput = {
  /** Lets go of the shared runtime (src/llm/llama-cpp/shared-llama.ts). */
  releaseLlama: () => Promise<void>;
  model: LlamaModel;
  backend: DecodeBackend;
  options: LlamaCppEngineOptions;
  runtime: LlamaRuntime;
  threads: number;
  threadsBatch: number;
  parallel: number;
  batchSize: number;
  maxTotalTokens: number;
};

export function buildEngine(input: BuildInput): LlamaCppEngine {
  const { model, backend, options, parallel } = input;
  const maxQueue = options.maxQueue ?? parallel;
  const maxConcurrentRequests = options.maxConcurrentRequests ?? parallel + maxQueue;
  const limits: TokenLimits = {
    maxTotalTokens: input.maxTotalTokens,
    maxInputTokens: options.maxInputTokens ?? Math.min(1024, input.maxTotalTokens - 1),
    maxNewTokens: options.maxNewTokens ?? input.maxTotalTokens - 1,
  };
  const requestTimeoutMs = options.requestTimeoutMs ?? 60_000;
  const promptCache = options.promptCache ?? true;
  // 0: no native streaming (off, or a backend without it).
  const nativeStreamBuffer = nativeStreamBufferOf(backend, options);
  const slots: Slot[] = [];
  for (let index = 0; index < parallel; index += 1) slots.push({ index, tokens: [], adapter: -1 });
  const adapters = options.loras ?? [];

  function adapterIndex(name: string | undefined): number {
    if (name === undefined) return -1;
    const index = adapters.findIndex((adapter) => adapter.name === name);
    if (index < 0) {
      const known = adapters.map((adapter) => adapter.name).join(", ") || "none (serve-llm --lora <name>=<path.gguf>)";
      throw new AppError("unknown_adapter", `Unknown adapter '${name}'; adapters: ${known}`, {
        details: { adapter: name },
      });
    }
    return index;
  }
  const admission: Admission<Slot> = createAdmission(slots, { slots: parallel, maxQueue, maxConcurrentRequests });
  const prompts: PromptBuilder = createPromptBuilder(model);
  const observer = options.observer ?? {};
  // Timed only when observed: two clock reads per token.
  const onTokenDelivered = observer.onTokenDelivered?.bind(observer);
  const running = new Set<AbortController>();
  const idleWaiters: Array<() => void> = [];
  let pendingRequests = 0;
  let activeGenerations = 0;
  let disposed = false;
  const modelId = options.modelId ?? path.basename(options.modelPath).replace(/\.gguf$/i, "");
  const tokenizerMetadata = (
    model.fileInfo.metadata as { tokenizer?: { ggml?: { tokens?: readonly unknown[]; model?: unknown } } }
  ).tokenizer?.ggml;
  const metadataTokens = tokenizerMetadata?.tokens;
  const tokenizerModel = typeof tokenizerMetadata?.model === "string" ? tokenizerMetadata.model : undefined;

  /** A token's own text read after `context` (the tokens before it). */
  function textAfter(token: number, context: Token[] | undefined): string {
    return model.detokenize([token as Token], false, context);
  }

  // End-of-generation is a property of the vocabulary entry: asked of llama.cpp once per token id.
  const endOfGenerationTokens = new Map<number, boolean>();
  function isEndOfGenerationToken(token: number): boolean {
    let known = endOfGenerationTokens.get(token);
    if (known === undefined) {
      known = model.isEogToken(token as Token);
      endOfGenerationTokens.set(token, known);
    }
    return known;
  }

  function settle(): void {
    pendingRequests -= 1;
    if (pendingRequests === 0) for (const resolve of idleWaiters.splice(0)) resolve();
  }

  function promptFor(request: EngineRequest): { tokens: number[]; stopTokenIds: number[]; stopTexts: string[] } {
    return truncatePrompt(prompts.build(request.input), request.parameters.truncate);
  }

  async function* run(request: EngineRequest): AsyncGenerator<EngineEvent, void, void> {
    if (disposed) throw new AppError("shutting_down", "The model is shutting down");
    const parameters = request.parameters;
    const adapter = adapterIndex(parameters.adapter);
    const prompt = promptFor(request);
    const maxNewTokens = checkTokenLimits(limits, prompt.tokens.length, parameters.maxNewTokens);
    // Sampling is set up (logit bias checked, grammar compiled) before admission, so invalid
    // requests are refused without taking a sequence.
    const topLogprobs = parameters.topLogprobs ?? 0;
    const promptLogprobs = parameters.promptLogprobs === true;
    checkTokenProbabilities(topLogprobs);
    const setup = await backend.prepare(parameters, prompt.tokens);
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
    let cachedPromptTokens = 0;
    let finishReason: FinishReason | "error" = "error";
    let admittedAt: number | undefined;
    let decodeMs = 0;
    try {
      const cachePrompt = promptCache && parameters.cachePrompt !== false;
      try {
        // llama-server's slot similarity: the free sequence sharing the longest prefix.
        slot = await admission.acquire(
          signal,
          cachePrompt
            ? (free) => (free.adapter === adapter ? commonPrefixLength(free.tokens, prompt.tokens) : 0)
            : undefined,
        );
      } catch (error) {
        throw signal.aborted ? cancelled() : error;
      }
      admittedAt = performance.now();
      const queueMs = admittedAt - queuedAt;
      observer.onQueued?.(queueMs);
      yield { type: "start", promptTokens, promptTokenIds: prompt.tokens, queueMs, seed: setup.seed };

      const stops = [...(parameters.stop ?? []), ...prompt.stopTexts];
      // Native streaming: the backend writes the text to the client's socket; no token events.
      const target = nativeStreamBuffer > 0 ? socketStreamTarget(request, nativeStreamBuffer) : undefined;
      const stopTokens = new Set(prompt.stopTokenIds);
      const detokenizer = createIncrementalDetokenizer(
        (tokens, lastTokens) => model.detokenize(tokens as Token[], false, lastTokens as Token[]),
        prompt.tokens,
      );
      const stopMatcher = createStopMatcher(stops);
      // n > 1: the first request of the group to generate lends its prompt KV to the others.
      const group = parameters.choiceGroup;
      const shareWith = group?.slot;
      if (group !== undefined && shareWith === undefined) group.slot = slot.index;
      const stream = backend.generate(
        {
          slot: slot.index,
          promptTokens: prompt.tokens,
          stopTokens,
          maxTokens: maxNewTokens,
          logprobs: parameters.logprobs === true || topLogprobs > 0,
          cachePrompt,
          adapter,
          signal,
          ...(topLogprobs > 0 ? { topLogprobs } : {}),
          ...(promptLogprobs ? { promptLogprobs } : {}),
          ...(shareWith === undefined ? {} : { shareWith }),
          ...(target === undefined ? {} : { socketStream: { target, stops, stopTokens: prompt.stopTokenIds } }),
        },
        setup,
      );
      // What the sequence will hold (approximately: the backend keeps the exact list); the next
      // request's slot choice compares its prompt with it.
      const slotTokens = [...prompt.tokens];
      slot.tokens = slotTokens;
      slot.adapter = adapter;
      let text = "";
      let lastTokenAt = performance.now();
      let firstTokenAt = lastTokenAt;
      let reason: FinishReason = "eos";
      let flushed = false;
      let promptLogprobValues: readonly number[] | undefined;
      activeGenerations += 1;
      try {
        for (;;) {
          let item: GeneratedToken | undefined;
          try {
            item = await stream.next();
          } catch (error) {
            // A backend torn down under a cancelled request (dispose) fails with its own error;
            // the request's reason (shutting down, timeout, client gone) is the one to report.
            throw signal.aborted ? cancelled() : error;
          }
          if (item === undefined) {
            const streamed = target === undefined ? undefined : stream.streamed?.();
            if (streamed === undefined) break;
            // Metrics in bulk; throws when the socket writer gave up (unless the request was cancelled).
            const at = { observer, queuedAt, admittedAt, activeGenerations, aborted: signal.aborted };
            ({ firstTokenAt, lastTokenAt } = settleStreamed(streamed, nativeStreamBuffer, at));
            [completionTokens, text, reason, flushed] = [streamed.tokens.length, streamed.text, streamed.finish, true];
            slotTokens.push(...streamed.tokens);
            break;
          }
          completionTokens += 1;
          if (item.promptLogprobs !== undefined) promptLogprobValues = item.promptLogprobs;
          // Before the model is used: dispose() aborts requests, then frees the model.
          if (signal.aborted) throw cancelled();
          const token = item.token;
          // With logprobs, each token's own text, read after the tokens before it (a
          // SentencePiece word's leading space only shows there).
          const context =
            parameters.tokenPieces === true || item.top !== undefined ? (slotTokens.slice(-4) as Token[]) : undefined;
          slotTokens.push(token);
          const endOfGeneration = stopTokens.has(token) || isEndOfGenerationToken(token);
          const first = completionTokens === 1;
          const last = endOfGeneration || completionTokens >= maxNewTokens;
          const now = performance.now();
          if (first) observer.onFirstToken?.(now - queuedAt, activeGenerations, now - admittedAt);
          else observer.onInterToken?.(now - lastTokenAt, activeGenerations);
          if (first) firstTokenAt = now;
          lastTokenAt = now;
          // The last token's event carries everything still held back (incomplete characters,
          // possible stop-sequence prefixes), so the events always add up to the generated text.
          const raw = endOfGeneration
            ? detokenizer.flush()
            : detokenizer.push(token) + (last ? detokenizer.flush() : "");
          const piece = stopMatcher.push(raw);
          const pieceText = last && !piece.stopped ? piece.text + stopMatcher.flush() : piece.text;
          text += pieceText;
          // Built without spreads or closures: this runs for every streamed token.
          const tokenEvent: Extract<EngineEvent, { type: "token" }> = {
            type: "token",
            id: token,
            text: pieceText,
            logprob: item.logprob,
            special: endOfGeneration,
          };
          if (parameters.tokenPieces === true) tokenEvent.piece = textAfter(token, context);
          if (item.top !== undefined) {
            tokenEvent.top = item.top.map((entry) => ({
              id: entry.token,
              text: textAfter(entry.token, context),
              logprob: entry.logprob,
              special: stopTokens.has(entry.token) || isEndOfGenerationToken(entry.token),
            }));
          }
          if (onTokenDelivered === undefined) yield tokenEvent;
          else {
            const textDone = performance.now();
            yield tokenEvent;
            onTokenDelivered(first, textDone - now, performance.now() - textDone);
          }
          if (!piece.stopped && !last) continue;
          flushed = true;
          reason = piece.stopped || stopTokens.has(token) ? "stop" : endOfGeneration ? "eos" : "length";
          break;
        }
        if (signal.aborted) throw cancelled();
      } finally {
        activeGenerations -= 1;
        decodeMs = completionTokens > 1 ? lastTokenAt - firstTokenAt : 0;
        // Stops the backend (tokens generated ahead are dropped) and waits until the sequence
        // is idle and cleared before the slot is released below.
        await stream.close();
        cachedPromptTokens = stream.cachedPromptTokens();
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
        cachedPromptTokens,
        completionTokens,
        seed: setup.seed,
        ...(promptLogprobs
          ? { promptLogprobs: [null, ...(promptLogprobValues ?? Array(prompt.tokens.length - 1).fill(null))] }
          : {}),
      };
    } finally {
      running.delete(controller);
      if (slot !== undefined) admission.release(slot);
      const inferenceMs = admittedAt === undefined ? 0 : performance.now() - admittedAt;
      observer.onFinished?.({
        promptTokens,
        cachedPromptTokens,
        completionTokens,
        finishReason,
        inferenceMs,
        decodeMs,
        maxNewTokens,
      });
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
      threadsBatch: input.threadsBatch,
      engine: backend.name,
      runtime: input.runtime,
      batchSize: input.batchSize,
      maxQueue,
      maxConcurrentRequests,
      get chatTemplate() {
        return prompts.chatTemplateName;
      },
      get chatTemplateTools() {
        return prompts.templateSupportsTools;
      },
      vocabularySize: metadataTokens?.length,
      promptCache,
      adapters: adapters.map(({ name, scale }) => ({ name, scale })),
      maxChoices: options.maxChoices ?? DEFAULT_MAX_CHOICES,
    },
    run,
    detokenize(tokens, special = false) {
      return model.detokenize(tokens as Token[], special);
    },
    tokenize(text, tokenizeOptions = {}) {
      const tokens = [...model.tokenize(text, tokenizeOptions.parseSpecial ?? true)] as number[];
      const bos = model.tokens.bos;
      if (tokenizeOptions.addSpecial === true && bos !== null && model.tokens.shouldPrependBosToken) {
        if (tokens[0] !== bos) tokens.unshift(bos);
      }
      return tokens;
    },
    pieces(tokens) {
      return tokenPieces(tokens, {
        detokenize: (ids) => model.detokenize(ids as Token[], true),
        vocabularyEntry: (token) => {
          const entry = metadataTokens?.[token];
          return typeof entry === "string" ? entry : undefined;
        },
        tokenizerModel,
        anchor: model.tokens.bos ?? undefined,
      });
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
        decode: backend.decodeStats(),
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
      await backend.dispose();
      await model.dispose();
      await input.releaseLlama();
    },
  };
}
