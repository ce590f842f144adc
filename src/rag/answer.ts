/**
 * The answer pipeline as a typed stream of parts: `sources` (as soon as retrieval is done), then
 * `token`s, then `done` with usage and timings — or an `error` part when generation fails after
 * the sources went out. Failures BEFORE the first part are thrown instead, so the HTTP edge can
 * still answer with a proper status code. The HTTP edge turns the parts into SSE; the
 * non-streaming route collects them (one code path for both).
 */
import { performance } from "node:perf_hooks";
import type { Author } from "../domain/index.js";
import { AppError, type ErrorCode } from "../errors/index.js";
import type { FinishReason, LanguageModel, StreamPart, Usage } from "../llm/index.js";
import type { ActiveTrace } from "../observability/tracing/index.js";
import { noopTrace } from "../observability/tracing/index.js";
import { buildPrompt, currentPromptFingerprint, PREPROCESSING_VERSION } from "../preprocessing/index.js";
import type { ServedModelRef } from "./adapter-routing.js";
import { openCacheSession } from "./cache/policy.js";
import type { CacheHit } from "./cache/port.js";
import { resolveRagRequest } from "./request.js";
import { type PromptLimit, type RagDependencies, retrieveResolved } from "./retrieve.js";
import { buildContext, estimateTokens } from "./steps/context.js";
import { fitHistory } from "./steps/history.js";
import type { RagPart, RagRequest, RagResponse, RagSource, RagTimings } from "./types.js";
import { abortedError, deadlineSignal, toUpstreamError } from "./upstream.js";

export type AnswerOptions = { signal?: AbortSignal; trace?: ActiveTrace };

function promptText(input: ReturnType<typeof buildPrompt>): string {
  return "prompt" in input ? input.prompt : input.messages.map((message) => message.content).join("\n");
}

/**
 * What prompt monitoring keeps of a prompt (the trace's prompt capture policy filters it): the
 * messages or text as sent, the chunks in its context, and the versions of what shaped it.
 */
function promptContent(input: ReturnType<typeof buildPrompt>, used: readonly RagSource[]) {
  return {
    ...("prompt" in input ? { promptText: input.prompt } : { promptMessages: input.messages }),
    retrievedChunks: used.map((source) => ({
      id: source.id,
      documentId: source.documentId,
      title: source.title,
      author: source.author.fullName,
      score: source.score,
      text: source.text,
    })),
    templateVersions: {
      ...currentPromptFingerprint().versions,
      preprocessing: PREPROCESSING_VERSION,
      fingerprint: currentPromptFingerprint().hash,
    },
  };
}

/** Pulls the next part of an LLM stream, or rejects when the deadline signal fires first. */
function nextBefore(iterator: AsyncIterator<StreamPart>, signal: AbortSignal): Promise<IteratorResult<StreamPart>> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    iterator.next().then(
      (result) => {
        signal.removeEventListener("abort", onAbort);
        resolve(result);
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
}

/** Tokens of the prompt without query and context, per template (the chat template costs a render). */
const promptBaseTokens = new WeakMap<object, Map<string, number>>();

function promptOverhead(query: string, deps: RagDependencies, promptLimit: PromptLimit): number {
  const template = deps.config.promptTemplate;
  const key = typeof template === "string" ? template : template.custom;
  // Keyed by the counter too: a limit learned late (serve-rag) counts differently from then on.
  const cacheKey = promptLimit.countTokens ?? promptLimit;
  let cache = promptBaseTokens.get(cacheKey);
  if (cache === undefined) {
    cache = new Map();
    promptBaseTokens.set(cacheKey, cache);
  }
  let base = cache.get(key);
  if (base === undefined) {
    base = promptLimit.countInputTokens(buildPrompt({ template, query: "", context: "" }));
    cache.set(key, base);
  }
  const countTokens = deps.countTokens ?? deps.promptLimit?.countTokens ?? estimateTokens;
  return base + countTokens(query);
}

export type PromptFit = {
  contextBudget: number;
  maxNewTokens: number;
  /** Tokens left for context and history together (infinite when the model's limit is unknown). */
  inputRoom: number;
};

/**
 * Fits the prompt to the model the same way in-process (exact counts) and over HTTP (calibrated
 * estimates): the query and the template are never cut; the context shrinks first, down to
 * nothing; only when even the bare query leaves too little room for the answer is `maxNewTokens`
 * lowered. `input_too_long` only when the query itself does not fit the model's input.
 */
function fitPrompt(query: string, maxNewTokens: number, deps: RagDependencies): PromptFit {
  const { config, promptLimit } = deps;
  if (promptLimit === undefined) {
    return { contextBudget: config.contextTokenBudget, maxNewTokens, inputRoom: Number.POSITIVE_INFINITY };
  }
  const overhead = promptOverhead(query, deps, promptLimit) + PROMPT_MARGIN_TOKENS;
  const maxTotal = promptLimit.maxTotalTokens ?? Number.POSITIVE_INFINITY;
  const queryLimit = Math.min(promptLimit.maxInputTokens, maxTotal - 1);
  if (overhead > queryLimit) {
    throw new AppError(
      "input_too_long",
      `the query takes about ${overhead} tokens with the prompt template: the model's input limit is ${queryLimit}; shorten the query`,
      { details: { field: "query", promptTokens: overhead, limit: queryLimit } },
    );
  }
  const fittedNewTokens = Math.max(1, Math.min(maxNewTokens, maxTotal - overhead));
  const inputLimit = Math.min(promptLimit.maxInputTokens, maxTotal - fittedNewTokens);
  const inputRoom = Math.max(0, inputLimit - overhead);
  return {
    contextBudget: Math.min(config.contextTokenBudget, inputRoom),
    maxNewTokens: fittedNewTokens,
    inputRoom,
  };
}

/** Slack for token merges across the joins of template, query and context (counted apart). */
const PROMPT_MARGIN_TOKENS = 32;

export async function* answerStream(
  request: RagRequest,
  deps: RagDependencies,
  options: AnswerOptions = {},
): AsyncGenerator<RagPart, void, undefined> {
  const started = performance.now();
  const trace = options.trace ?? noopTrace();
  const { config } = deps;
  const resolved = resolveRagRequest(request, config);
  const llm: LanguageModel | undefined = deps.llm;
  if (llm === undefined) {
    throw new AppError("dependency_unavailable", "no language model is configured: this service can only /retrieve");
  }
  await deps.promptLimit?.refresh?.();
  const budgetStart = performance.now();
  const fit = fitPrompt(resolved.query, resolved.maxNewTokens, deps);
  const budgetMs = performance.now() - budgetStart;
  const cache = openCacheSession(resolved, deps, trace);
  const currentModel = (author: Author | null): ServedModelRef =>
    deps.adapters?.route(author) ?? { name: llm.id, version: null, adapter: null };
  let hit: CacheHit | undefined;
  const retrieval = await retrieveResolved(resolved, deps, {
    ...options,
    ...(cache === undefined
      ? {}
      : {
          intercept: async (probe) => {
            hit = await cache.lookup(probe);
            // An answer written by another model or adapter version (a rollout since) is not reused.
            if (hit !== undefined && !sameModel(hit.entry.model, currentModel(probe.author ?? null))) hit = undefined;
            return hit !== undefined;
          },
        }),
  });
  const { timings } = retrieval;
  if (retrieval.intercepted === true && hit !== undefined) {
    yield* replayCached(hit, currentModel(hit.entry.author), timings, started, trace);
    return;
  }

  const tokenizationStart = performance.now();
  const countTokens = deps.countTokens ?? deps.promptLimit?.countTokens ?? estimateTokens;
  const context = buildContext(retrieval.sources, fit.contextBudget, countTokens);
  // Then as many recent turns as fit after the system prompt, the question and the context.
  const historyBudget = Math.max(0, Math.min(config.historyTokenBudget, fit.inputRoom - context.tokens));
  const history = fitHistory(resolved.history, historyBudget, countTokens);
  // Time spent in the LLM's tokenizer (budget and context), reported apart from the service's own work.
  const tokenizationMs = budgetMs + performance.now() - tokenizationStart;
  // Only the sources that reached the prompt are the answer's sources.
  const sources = retrieval.sources.slice(0, context.sourcesUsed);
  yield { type: "sources", sources, author: retrieval.author ?? null, queries: retrieval.queries };
  const prompt = buildPrompt({
    template: config.promptTemplate,
    query: resolved.query,
    context: context.text,
    history: history.turns,
  });
  trace
    .startSpan("prompt", {
      template: typeof config.promptTemplate === "string" ? config.promptTemplate : "custom",
      contextTokens: context.tokens,
      contextBudgetTokens: fit.contextBudget,
      contextSourcesUsed: context.sourcesUsed,
      contextSourcesRetrieved: retrieval.sources.length,
      contextTruncated: context.truncated,
      historyTurns: resolved.history.length,
      historyTurnsUsed: history.turns.length,
      historyTokens: history.tokens,
      historyBudgetTokens: historyBudget,
      maxNewTokensFitted: fit.maxNewTokens,
      tokenizationMs,
      promptChars: promptText(prompt).length,
      ...promptContent(prompt, retrieval.sources.slice(0, context.sourcesUsed)),
    })
    .end();

  const generationStart = performance.now();
  const served = currentModel(retrieval.author ?? null);
  const span = trace.startSpan("generation", {
    model: served.name,
    modelVersion: served.version,
    adapter: served.adapter?.name ?? null,
    adapterVersion: served.adapter?.version ?? null,
    maxNewTokens: fit.maxNewTokens,
    temperature: resolved.temperature,
    topP: config.topP,
    repetitionPenalty: config.repetitionPenalty,
  });
  const deadline = deadlineSignal(options.signal, config.llmTimeoutMs);
  let answer = "";
  let usage: Usage = { promptTokens: 0, completionTokens: 0 };
  let finishReason: FinishReason = "length";
  let firstTokenMs: number | undefined;
  let failure: AppError | undefined;
  const iterator = llm
    .stream({
      ...prompt,
      maxNewTokens: fit.maxNewTokens,
      temperature: resolved.temperature,
      topP: config.topP,
      repetitionPenalty: config.repetitionPenalty,
      ...(served.adapter === null ? {} : { adapter: served.adapter.name }),
      signal: deadline.signal,
    })
    [Symbol.asyncIterator]();
  try {
    for (;;) {
      const next = await nextBefore(iterator, deadline.signal);
      if (next.done) break;
      const part = next.value;
      if (part.type === "token") {
        firstTokenMs ??= performance.now() - generationStart;
        answer += part.text;
        yield { type: "token", text: part.text };
      } else {
        usage = part.usage;
        finishReason = part.finishReason;
      }
    }
  } catch (error) {
    failure = toUpstreamError("the LLM", error, deadline.state);
  } finally {
    deadline.dispose();
    // Ends the adapter's generator too (it frees its sequence); errors on the way out do not matter.
    void Promise.resolve(iterator.return?.()).catch(() => {});
    timings.generationMs = performance.now() - generationStart;
    timings.totalMs = performance.now() - started;
    span.setAttributes({
      promptTokens: usage.promptTokens,
      completionTokens: usage.completionTokens,
      finishReason,
      timeToFirstTokenMs: firstTokenMs ?? null,
    });
    span.end(failure ?? (options.signal?.aborted ? abortedError("the generation") : undefined));
  }
  if (failure !== undefined) {
    trace.setAttributes({ answerChars: answer.length });
    yield { type: "error", code: failure.code, message: failure.message, cause: failure };
    return;
  }
  trace.setAttributes({ promptTokens: usage.promptTokens, completionTokens: usage.completionTokens, answer });
  // Only a completed answer is cached (an error or an abort returned above or never got here).
  if (!options.signal?.aborted) {
    await cache?.save({
      answer,
      sources,
      author: retrieval.author ?? null,
      queries: retrieval.queries,
      finishReason,
      usage,
      historyTurnsUsed: history.turns.length,
      model: served,
    });
  }
  yield {
    type: "done",
    answer,
    finishReason,
    usage,
    timings,
    historyTurnsUsed: history.turns.length,
    model: served,
  };
}

/** Same model name and version and same adapter version: entries without a record count as the base model's. */
function sameModel(stored: ServedModelRef | undefined, now: ServedModelRef): boolean {
  const entry = stored ?? { name: now.name, version: now.version, adapter: null };
  return (
    entry.name === now.name &&
    entry.version === now.version &&
    (entry.adapter?.name ?? null) === (now.adapter?.name ?? null) &&
    (entry.adapter?.version ?? null) === (now.adapter?.version ?? null)
  );
}

/** An answer-cache hit, as the same parts a generated answer streams (the answer in one token part). */
async function* replayCached(
  hit: CacheHit,
  model: ServedModelRef,
  timings: RagTimings,
  started: number,
  trace: ActiveTrace,
): AsyncGenerator<RagPart, void, undefined> {
  const { entry } = hit;
  yield { type: "sources", sources: entry.sources, author: entry.author, queries: entry.queries };
  if (entry.answer !== "") yield { type: "token", text: entry.answer };
  timings.totalMs = performance.now() - started;
  const cached = { ageMs: Math.max(0, Date.now() - entry.createdAt), similarity: hit.similarity };
  trace.setAttributes({ cached: true, answer: entry.answer });
  yield {
    type: "done",
    answer: entry.answer,
    finishReason: entry.finishReason,
    usage: entry.usage,
    timings,
    historyTurnsUsed: entry.historyTurnsUsed,
    model,
    cached,
  };
}

/** The non-streaming answer: the same parts, collected. An `error` part becomes a thrown AppError. */
export async function answerOnce(
  request: RagRequest,
  deps: RagDependencies,
  options: AnswerOptions = {},
): Promise<RagResponse> {
  let sources: RagResponse["sources"] = [];
  for await (const part of answerStream(request, deps, options)) {
    if (part.type === "sources") sources = part.sources;
    else if (part.type === "error") throw errorFromPart(part);
    else if (part.type === "done") {
      return {
        answer: part.answer,
        sources,
        usage: part.usage,
        timings: part.timings,
        historyTurnsUsed: part.historyTurnsUsed,
        model: part.model,
        ...(part.cached === undefined ? {} : { cached: true, cacheAgeMs: part.cached.ageMs }),
      };
    }
  }
  throw new AppError("internal_error", "the answer stream ended without a result");
}

export function errorFromPart(part: { code: ErrorCode; message: string; cause?: AppError }): AppError {
  return part.cause ?? new AppError(part.code, part.message);
}
