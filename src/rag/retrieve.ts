/**
 * The retrieval pipeline, shared by the RAG service and the evaluation harness:
 * self-query ∥ query expansion → one embedding batch → parallel filtered searches → merge, dedup
 * and rerank against the original query → top k. Each step is a function behind a small type
 * (./steps); this file only orders them, times them, bounds them with timeouts and traces them.
 */
import { performance } from "node:perf_hooks";
import type { Author } from "../domain/index.js";
import type { Embedder } from "../embedding/index.js";
import { AppError } from "../errors/index.js";
import type { LanguageModel, LanguageModelInput } from "../llm/index.js";
import type { ActiveTrace, Attributes } from "../observability/tracing/index.js";
import { describeError, noopTrace } from "../observability/tracing/index.js";
import { CONDENSE_PROMPT_VERSION, cleanQuery } from "../preprocessing/index.js";
import type { VectorStore } from "../vector-store/index.js";
import type { AdapterRouter } from "./adapter-routing.js";
import type { AnswerCachePolicy, CacheProbe } from "./cache/policy.js";
import type { RagConfig } from "./config.js";
import { type ResolvedRagRequest, resolveRagRequest } from "./request.js";
import type { Reranker } from "./rerank/port.js";
import { runStep, type StepOptions } from "./step.js";
import { type Condensed, condenseQuestion } from "./steps/condense.js";
import type { TokenCounter } from "./steps/context.js";
import { carriedOverAuthor } from "./steps/history.js";
import { createQueryExpansionStep } from "./steps/query-expansion.js";
import { createRerankStep, fuseResultLists, type RankedChunk } from "./steps/rerank.js";
import { createEmbedQueriesStep, createSearchStep } from "./steps/search.js";
import { type AuthorResolution, createSelfQueryStep, findKnownAuthor } from "./steps/self-query.js";
import { emptyTimings, type RagRequest, type RagSource, type RetrievalResult } from "./types.js";
import { callUpstream } from "./upstream.js";

export type RagDependencies = {
  store: VectorStore;
  embedder: Embedder;
  /** Needed for generation, LLM self-query and query expansion; retrieval works without it. */
  llm?: LanguageModel;
  /** Picks the LoRA adapter of the resolved author (src/rag/adapter-routing.ts); absent: the base model. */
  adapters?: AdapterRouter;
  reranker?: Reranker;
  config: RagConfig;
  /** Known authors (default: the store's listAuthors); the service caches them. */
  listAuthors?: (signal: AbortSignal) => Promise<Author[]>;
  /** Tokens of a text as the LLM counts them, for the context budget (default: an estimate). */
  countTokens?: TokenCounter;
  /**
   * The LLM's input limit and exact prompt counting, when known (in-process model): the context
   * budget then shrinks so that the whole prompt fits.
   */
  promptLimit?: PromptLimit;
  /** The answer cache (src/rag/cache); none = off. */
  answerCache?: AnswerCachePolicy;
};

export type PromptLimit = {
  maxInputTokens: number;
  /** Input + new tokens, when the model has such a limit. */
  maxTotalTokens?: number;
  countInputTokens(input: LanguageModelInput): number;
  /** Tokens of a text as this LLM counts them (estimated), used when `countTokens` is not given. */
  countTokens?: TokenCounter;
  /** Brings the limit up to date before a request (e.g. learns it once the LLM answers). */
  refresh?(): Promise<void>;
};

export type RetrieveOptions = {
  signal?: AbortSignal;
  trace?: ActiveTrace;
  /**
   * Runs once the standalone question, its author and its embedding are known, before query
   * expansion and search (the answer cache's lookup): true stops retrieval there, and the result
   * comes back with `intercepted: true` and no sources.
   */
  intercept?: (probe: CacheProbe) => Promise<boolean>;
};

const elapsed = (start: number): number => performance.now() - start;

async function resolveAuthor(
  request: ResolvedRagRequest,
  deps: RagDependencies,
  options: RetrieveOptions,
): Promise<AuthorResolution> {
  const { config } = deps;
  if (request.author === undefined && request.selfQuery === "off") return { author: undefined, source: "none" };
  const authors = await callUpstream("the vector store (authors)", config.storeTimeoutMs, options.signal, (signal) =>
    deps.listAuthors === undefined ? deps.store.listAuthors() : deps.listAuthors(signal),
  );
  if (request.author !== undefined) {
    const author = findKnownAuthor(request.author, authors);
    if (author === undefined) {
      throw new AppError(
        "validation_error",
        `unknown author '${request.author}'; known authors: ${authors.map((known) => `${known.fullName} (${known.id})`).join(", ") || "none"}`,
        { details: { field: "author" } },
      );
    }
    return { author, source: "match" };
  }
  const step = createSelfQueryStep({
    ...(deps.llm === undefined ? {} : { llm: deps.llm }),
    maxNewTokens: config.selfQueryMaxNewTokens,
  });
  const found = await callUpstream("the LLM (self-query)", config.llmTimeoutMs, options.signal, (signal) =>
    step(request.query, authors, { mode: request.selfQuery, signal }),
  );
  if (found.author !== undefined || request.selfQuery === "off") return found;
  // A follow-up that names nobody ("what did he say about LoRA?"): the latest named author carries over.
  const carried = carriedOverAuthor(request.history, authors);
  return carried === undefined ? found : { author: carried, source: "history" };
}

/** Retrieval for an already resolved request (the answer pipeline resolves it once). */
export async function retrieveResolved(
  sent: ResolvedRagRequest,
  deps: RagDependencies,
  options: RetrieveOptions = {},
): Promise<RetrievalResult> {
  const started = performance.now();
  const { config, store, embedder } = deps;
  const trace = options.trace ?? noopTrace();
  const signal = options.signal;
  const timings = emptyTimings();
  trace.setAttributes({ query: sent.query, k: sent.k, retrievalMode: config.retrievalMode });

  const step = (name: string, timing: StepOptions["timing"], attributes: Attributes): StepOptions => ({
    trace,
    name,
    timings,
    timing,
    attributes,
  });

  // A follow-up is searched as the standalone question the LLM rewrites it into (raw on any failure).
  let request = sent;
  if (sent.history.length > 0) {
    const condensed = await runStep(
      step("condense", "selfQueryMs", {
        mode: sent.condense,
        question: sent.query,
        turns: sent.history.length,
        templateVersion: CONDENSE_PROMPT_VERSION,
      }),
      async (span) => {
        let result: Condensed;
        try {
          result = await callUpstream("the LLM (condense)", config.llmTimeoutMs, signal, (child) =>
            condenseQuestion(sent.query, sent.history, sent.condense, {
              llm: deps.llm,
              maxNewTokens: config.condenseMaxNewTokens,
              maxChars: config.maxQueryChars,
              check: { minWordShare: config.condenseMinWordShare, minOverlap: config.condenseMinOverlap },
              signal: child,
            }),
          );
        } catch (error) {
          if (signal?.aborted) throw error;
          result = { question: sent.query, outcome: "failed" };
        }
        span.setAttributes({
          standaloneQuestion: result.question,
          outcome: result.outcome,
          rewrite: result.rewrite ?? null,
          wordShare: result.wordShare ?? null,
          overlap: result.overlap ?? null,
        });
        return result;
      },
    );
    trace.setAttributes({ standaloneQuery: condensed.question, condense: condensed.outcome });
    request = { ...sent, query: condensed.question };
  }

  const selfQuery = runStep(
    step("self-query", "selfQueryMs", { mode: request.selfQuery, requestedAuthor: request.author ?? null }),
    async (span) => {
      const resolution = await resolveAuthor(request, deps, options);
      span.setAttributes({
        authorId: resolution.author?.id ?? null,
        authorName: resolution.author?.fullName ?? null,
        source: request.author !== undefined ? "request" : resolution.source,
      });
      return resolution;
    },
  );
  const expand = () =>
    runStep(step("query-expansion", "expansionMs", { requested: request.expandQueries }), async (span) => {
      const expand = createQueryExpansionStep({
        ...(deps.llm === undefined ? {} : { llm: deps.llm }),
        maxNewTokens: config.expansionMaxNewTokens,
      });
      const queries =
        request.expandQueries <= 1
          ? [request.query]
          : await callUpstream("the LLM (query expansion)", config.llmTimeoutMs, signal, (child) =>
              expand(request.query, { count: request.expandQueries, signal: child }),
            );
      span.setAttributes({ queries, expanded: queries.length - 1 });
      return queries;
    });
  const embedTexts = async (texts: string[], purpose: "search" | "cache") => {
    const before = timings.embeddingMs;
    const vectors = await runStep(
      step("embedding", "embeddingMs", { texts: texts.length, embedder: embedder.id, purpose }),
      async () => {
        const embed = createEmbedQueriesStep(embedder);
        return callUpstream("the embedder", config.embedderTimeoutMs, signal, (child) =>
          embed(texts, { signal: child }),
        );
      },
    );
    timings.embeddingMs += before;
    return vectors;
  };
  const cleaned = (query: string) => {
    const text = cleanQuery(query);
    return text === "" ? query : text;
  };

  // With a cache lookup, expansion waits for it: a hit must not cost an LLM call.
  let probe: { text: string; vector: Float32Array } | undefined;
  if (options.intercept !== undefined) {
    const text = cleaned(request.query);
    const [found, embedded] = await Promise.all([selfQuery, embedTexts([text], "cache")]);
    const vector = embedded[0] as Float32Array;
    if (await options.intercept({ question: request.query, author: found.author, vector })) {
      timings.totalMs = elapsed(started);
      return {
        sources: [],
        author: found.author,
        authorSource: request.author !== undefined ? "request" : found.source,
        standaloneQuery: request.query,
        queries: [request.query],
        timings,
        intercepted: true,
      };
    }
    probe = { text, vector };
  }
  const [resolution, queries] = await Promise.all([selfQuery, expand()]);

  const texts = queries.map(cleaned);
  let vectors: Float32Array[] | undefined;
  if (config.retrievalMode !== "lexical") {
    // The cache's embedding of the standalone question is reused for the first query.
    const reuse = probe !== undefined && texts[0] === probe.text;
    const rest = reuse ? texts.slice(1) : texts;
    const embedded = rest.length === 0 ? [] : await embedTexts(rest, "search");
    vectors = reuse && probe !== undefined ? [probe.vector, ...embedded] : embedded;
  }

  const lists = await runStep(
    step("search", "searchMs", {
      mode: config.retrievalMode,
      categories: request.categories,
      authorId: resolution.author?.id ?? null,
      limit: config.searchLimit,
    }),
    async (span) => {
      const search = createSearchStep(store);
      const results = await callUpstream("the vector store", config.storeTimeoutMs, signal, (child) =>
        search(
          {
            mode: config.retrievalMode,
            texts,
            vectors,
            categories: request.categories,
            authorId: resolution.author?.id,
            limit: config.searchLimit,
            hybridFusion: config.hybridFusion,
            hybridDenseWeight: config.hybridDenseWeight,
            rrfK: config.rrfK,
            titleWeight: config.titleWeight,
          },
          { signal: child },
        ),
      );
      span.setAttributes({ hits: results.reduce((total, list) => total + list.hits.length, 0) });
      return results;
    },
  );

  const ranked = await runStep(
    step("rerank", "rerankMs", {
      method: deps.reranker === undefined ? "reciprocal-rank-fusion" : deps.reranker.id,
      k: request.k,
    }),
    async (span) => {
      const rerank = createRerankStep({
        ...(deps.reranker === undefined ? {} : { reranker: deps.reranker }),
        rrfK: config.rrfK,
        candidates: config.rerankCandidates,
      });
      let kept: RankedChunk[];
      try {
        kept = await callUpstream("the reranker", config.rerankerTimeoutMs, signal, (child) =>
          rerank(request.query, lists, { k: request.k, signal: child }),
        );
        if (deps.reranker !== undefined) timings.rerank = "model";
      } catch (error) {
        // A failed or slow reranker costs ranking quality, not the answer (unless strict).
        if (deps.reranker === undefined || config.rerankerFailure === "fail" || signal?.aborted) throw error;
        kept = fuseResultLists(lists, config.rrfK).slice(0, request.k);
        timings.rerank = "fallback";
        const { code, message } = describeError(error);
        span.setAttributes({ rerank: "fallback", rerankError: code, rerankErrorMessage: message });
        trace.setAttributes({ rerank: "fallback" });
      }
      span.setAttributes({
        ids: kept.map((item) => item.chunk.id),
        scores: kept.map((item) => item.score),
      });
      return kept;
    },
  );

  const sources: RagSource[] = ranked.map(({ chunk, score }) => ({
    id: chunk.id,
    documentId: chunk.documentId,
    title: chunk.title,
    link: chunk.link,
    author: { id: chunk.author.id, fullName: chunk.author.fullName },
    category: chunk.category,
    score,
    text: chunk.text,
  }));
  timings.totalMs = elapsed(started);
  return {
    sources,
    author: resolution.author,
    authorSource: request.author !== undefined ? "request" : resolution.source,
    standaloneQuery: request.query,
    queries,
    timings,
  };
}

/** Retrieves the sources for `request` (see the file comment). Exported for the evaluation harness. */
export async function retrieve(
  request: RagRequest,
  deps: RagDependencies,
  options: RetrieveOptions = {},
): Promise<RetrievalResult> {
  return retrieveResolved(resolveRagRequest(request, deps.config), deps, options);
}
