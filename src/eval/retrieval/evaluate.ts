/**
 * The retrieval evaluation loop. Every query goes through `retrieve` from src/rag — the very code
 * the RAG service runs — with the mode, fusion and reranker settings under test; the chunks it
 * returns are reduced to documents (a document ranks where its best chunk ranks) and scored against
 * the judgments. Queries run one at a time so that per-query latency is not queue time.
 */
import { performance } from "node:perf_hooks";
import type { Embedder } from "../../embedding/index.js";
import { AppError } from "../../errors/index.js";
import type { LanguageModel } from "../../llm/index.js";
import { type RagConfig, type Reranker, resolveRagConfig, retrieve } from "../../rag/index.js";
import { definedOnly } from "../../util/index.js";
import type { SearchMode, VectorStore } from "../../vector-store/index.js";
import { type Judgments, mean, mrrAtK, ndcgAtK, percentile, recallAtK, uniqueInOrder } from "../metrics.js";
import { DEFAULT_EVALUATION_SETTINGS, type EvaluationSettings } from "./settings.js";

export type EvaluationQuery = {
  id: string;
  text: string;
  /** Relevant document id → graded relevance (> 0). */
  judgments: Judgments;
  /** Author named in the request (overrides self-query), if any. */
  author?: string;
  /** Subsets the query belongs to (e.g. "paraphrase"): each is also reported on its own. */
  tags?: readonly string[];
};

export { DEFAULT_EVALUATION_SETTINGS, type EvaluationSettings } from "./settings.js";

export type EvaluationDependencies = {
  store: VectorStore;
  embedder: Embedder;
  reranker?: Reranker;
  llm?: LanguageModel;
};

export type LatencySummary = { p50Ms: number; p95Ms: number; meanMs: number };

export type QueryOutcome = {
  id: string;
  /** Ranked document ids (deduplicated), at most `depth`. */
  documents: string[];
  /** Author ids of the returned chunks, in rank order. */
  authorIds: string[];
  ndcg: number;
  recallAtK: number;
  recallAtDepth: number;
  mrr: number;
  hit: boolean;
  /** A relevant document in the top 5 ("source in top 5"). */
  hitAt5: boolean;
  tags: readonly string[];
  latencyMs: number;
  rerankMs: number;
};

export type EvaluationResult = {
  mode: SearchMode;
  reranker: string | null;
  queries: number;
  k: number;
  depth: number;
  metrics: RetrievalMetrics;
  /** The same metrics over each tagged subset of the queries (e.g. "paraphrase"). */
  subsets: Record<string, { queries: number; metrics: RetrievalMetrics }>;
  latency: LatencySummary;
  /** The reranking step alone (0 without a reranker). */
  rerankLatency: LatencySummary;
  settings: EvaluationSettings;
  perQuery: QueryOutcome[];
};

export type RetrievalMetrics = {
  ndcgAt10: number;
  recallAt10: number;
  recallAt100: number;
  mrrAt10: number;
  hitRateAt10: number;
  hitRateAt5: number;
};

function metricsOf(outcomes: readonly QueryOutcome[]): RetrievalMetrics {
  return {
    ndcgAt10: mean(outcomes.map((outcome) => outcome.ndcg)),
    recallAt10: mean(outcomes.map((outcome) => outcome.recallAtK)),
    recallAt100: mean(outcomes.map((outcome) => outcome.recallAtDepth)),
    mrrAt10: mean(outcomes.map((outcome) => outcome.mrr)),
    hitRateAt10: mean(outcomes.map((outcome) => (outcome.hit ? 1 : 0))),
    hitRateAt5: mean(outcomes.map((outcome) => (outcome.hitAt5 ? 1 : 0))),
  };
}

function subsetsOf(outcomes: readonly QueryOutcome[]): EvaluationResult["subsets"] {
  const tags = [...new Set(outcomes.flatMap((outcome) => outcome.tags))].sort();
  return Object.fromEntries(
    tags.map((tag) => {
      const tagged = outcomes.filter((outcome) => outcome.tags.includes(tag));
      return [tag, { queries: tagged.length, metrics: metricsOf(tagged) }];
    }),
  );
}

export type EvaluationProgress = { completed: number; total: number; mode: SearchMode };

export function resolveEvaluationSettings(overrides: Partial<EvaluationSettings> = {}): EvaluationSettings {
  const settings = { ...DEFAULT_EVALUATION_SETTINGS, ...definedOnly(overrides) } as EvaluationSettings;
  for (const name of ["k", "depth", "searchLimit", "rrfK", "rerankCandidates", "expandQueries"] as const) {
    if (!Number.isInteger(settings[name]) || settings[name] < 1) {
      throw new AppError(
        "configuration_error",
        `evaluation setting ${name} must be a positive integer, got ${settings[name]}`,
      );
    }
  }
  if (!(settings.hybridDenseWeight >= 0 && settings.hybridDenseWeight <= 1)) {
    throw new AppError("configuration_error", `dense weight must be within 0..1, got ${settings.hybridDenseWeight}`);
  }
  return settings;
}

/** The RAG configuration the harness runs `retrieve` with. */
export function ragConfigFor(settings: EvaluationSettings, withReranker: boolean): RagConfig {
  const kept = withReranker ? settings.rerankCandidates : Math.max(settings.depth, settings.k) * 2;
  return resolveRagConfig({
    retrievalMode: settings.mode,
    k: kept,
    maxK: kept,
    expandQueries: settings.expandQueries,
    selfQuery: settings.selfQuery,
    categories: settings.categories,
    searchLimit: Math.max(settings.searchLimit, kept),
    hybridFusion: settings.hybridFusion,
    hybridDenseWeight: settings.hybridDenseWeight,
    rrfK: settings.rrfK,
    titleWeight: settings.titleWeight,
    rerankCandidates: settings.rerankCandidates,
  });
}

const summarize = (values: number[]): LatencySummary => ({
  p50Ms: percentile(values, 0.5),
  p95Ms: percentile(values, 0.95),
  meanMs: mean(values),
});

export async function evaluateRetrieval(
  queries: readonly EvaluationQuery[],
  deps: EvaluationDependencies,
  overrides: Partial<EvaluationSettings> = {},
  options: { signal?: AbortSignal; onProgress?: (progress: EvaluationProgress) => void } = {},
): Promise<EvaluationResult> {
  const settings = resolveEvaluationSettings(overrides);
  if (settings.mode !== "dense" && !deps.store.supportsLexical) {
    throw new AppError(
      "configuration_error",
      `the store ${deps.store.location} has no full-text search: use --mode dense`,
    );
  }
  const config = ragConfigFor(settings, deps.reranker !== undefined);
  const ragDeps = {
    store: deps.store,
    embedder: deps.embedder,
    config,
    ...(deps.reranker === undefined ? {} : { reranker: deps.reranker }),
    ...(deps.llm === undefined ? {} : { llm: deps.llm }),
  };
  const outcomes: QueryOutcome[] = [];
  for (const query of queries) {
    options.signal?.throwIfAborted();
    const started = performance.now();
    const result = await retrieve(
      { query: query.text, ...(query.author === undefined ? {} : { author: query.author }) },
      ragDeps,
      options.signal === undefined ? {} : { signal: options.signal },
    );
    const latencyMs = performance.now() - started;
    const documents = uniqueInOrder(result.sources.map((source) => source.documentId)).slice(0, settings.depth);
    const ndcg = ndcgAtK(documents, query.judgments, settings.k);
    outcomes.push({
      id: query.id,
      documents,
      authorIds: result.sources.slice(0, settings.k).map((source) => source.author.id),
      ndcg,
      recallAtK: recallAtK(documents, query.judgments, settings.k),
      recallAtDepth: recallAtK(documents, query.judgments, settings.depth),
      mrr: mrrAtK(documents, query.judgments, settings.k),
      hit: recallAtK(documents, query.judgments, settings.k) > 0,
      hitAt5: recallAtK(documents, query.judgments, 5) > 0,
      tags: query.tags ?? [],
      latencyMs,
      rerankMs: deps.reranker === undefined ? 0 : result.timings.rerankMs,
    });
    options.onProgress?.({ completed: outcomes.length, total: queries.length, mode: settings.mode });
  }
  return {
    mode: settings.mode,
    reranker: deps.reranker?.id ?? null,
    queries: outcomes.length,
    k: settings.k,
    depth: settings.depth,
    metrics: metricsOf(outcomes),
    subsets: subsetsOf(outcomes),
    latency: summarize(outcomes.map((outcome) => outcome.latencyMs)),
    rerankLatency: summarize(outcomes.map((outcome) => outcome.rerankMs)),
    settings,
    perQuery: outcomes,
  };
}
