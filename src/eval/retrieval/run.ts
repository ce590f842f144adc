/**
 * One evaluation run, shared by `llm-twin eval retrieval` and `npm run bench -- retrieval`: load the
 * dataset, open the store (default ./.llm-twin/eval/<dataset>), ingest the corpus through the
 * feature pipeline, then evaluate every requested mode (and the reranker, when given) over the
 * same queries.
 */

import { join } from "node:path";
import type { CreateEmbedderOptions, Embedder } from "../../embedding/index.js";
import { createEmbedder } from "../../embedding/index.js";
import type { IngestProgress } from "../../ingestion/index.js";
import type { Reranker } from "../../rag/index.js";
import { withResources } from "../../runtime/index.js";
import { definedOnly } from "../../util/index.js";
import { type FullTextSettings, openVectorStore, type SearchMode } from "../../vector-store/index.js";
import { loadEvaluationDataset } from "./datasets.js";
import { type EvaluationProgress, type EvaluationSettings, evaluateRetrieval } from "./evaluate.js";
import { ingestEvaluationCorpus } from "./prepare-store.js";
import { type QueryHalf, selectQueryHalf } from "./query-halves.js";
import type { EvaluationRun } from "./report.js";
import { DEFAULT_EVAL_STORE_ROOT } from "./settings.js";

export { DEFAULT_EVAL_STORE_ROOT };

export type RunEvaluationOptions = {
  dataset: string;
  split?: string;
  /** LLM Twin corpus file (dataset "llm-twin" only). */
  corpus?: string;
  modes: SearchMode[];
  /** Store URI; default lancedb:./.llm-twin/eval/<dataset name>. */
  store?: string;
  embedderSpec?: string;
  /** An "openai:" embedder's per-attempt timeout and retries. */
  embedderHttp?: CreateEmbedderOptions["http"];
  /**
   * Full-text tokenizer of a LanceDB store (default: the store's defaults). A change rebuilds the
   * full-text index at the next optimize(), which the run calls after ingestion.
   */
  fullText?: Partial<FullTextSettings>;
  cacheDir?: string;
  /** An already built embedder (tests share one); embedderSpec is then ignored. */
  embedder?: Embedder;
  /** Loaded by the caller; each mode is then evaluated with and without it. */
  reranker?: Reranker;
  settings?: Partial<Omit<EvaluationSettings, "mode">>;
  /** Which half of the queries to run (query-halves.ts); default all. Applied before limitQueries. */
  queryHalf?: QueryHalf;
  limitQueries?: number;
  recreate?: boolean;
  signal?: AbortSignal;
  onIngestProgress?: (progress: IngestProgress) => void;
  onQueryProgress?: (progress: EvaluationProgress & { label: string }) => void;
  /** Called once the dataset is loaded, with the number of query runs ahead. */
  onPlan?: (plan: { queries: number; runs: number }) => void;
};

export function defaultEvalStoreUri(datasetName: string): string {
  return `lancedb:${join(DEFAULT_EVAL_STORE_ROOT, datasetName)}`;
}

export async function runRetrievalEvaluation(options: RunEvaluationOptions): Promise<EvaluationRun> {
  const dataset = await loadEvaluationDataset(options.dataset, {
    ...(options.split === undefined ? {} : { split: options.split }),
    ...(options.corpus === undefined ? {} : { corpus: options.corpus }),
  });
  const half = selectQueryHalf(dataset.queries, options.queryHalf ?? "all");
  const queries = options.limitQueries === undefined ? half : half.slice(0, options.limitQueries);
  const variants = options.modes.flatMap((mode) =>
    options.reranker === undefined
      ? [{ mode, reranker: false }]
      : [
          { mode, reranker: false },
          { mode, reranker: true },
        ],
  );
  options.onPlan?.({ queries: queries.length, runs: variants.length });
  const storeUri = options.store ?? defaultEvalStoreUri(dataset.name);
  // Released through one stack (src/runtime), newest first, also when opening the store fails.
  return withResources(async (resources) => {
    const embedder =
      options.embedder ??
      resources.use(
        "embedder",
        await createEmbedder(
          options.embedderSpec ?? "static",
          definedOnly({ cacheDir: options.cacheDir, http: options.embedderHttp }),
        ),
      );
    const store = resources.use(
      "store",
      await openVectorStore(
        storeUri,
        options.fullText === undefined ? {} : { lancedb: { fullText: options.fullText } },
      ),
    );
    const summary = await ingestEvaluationCorpus(dataset, store, embedder, {
      recreate: options.recreate ?? false,
      ...(options.signal === undefined ? {} : { signal: options.signal }),
      ...(options.onIngestProgress === undefined ? {} : { onProgress: options.onIngestProgress }),
    });
    const results = [];
    for (const variant of variants) {
      const label = variant.reranker ? `${variant.mode} + rerank` : variant.mode;
      results.push(
        await evaluateRetrieval(
          queries,
          {
            store,
            embedder,
            ...(variant.reranker && options.reranker !== undefined ? { reranker: options.reranker } : {}),
          },
          { ...dataset.settings, ...definedOnly(options.settings ?? {}), mode: variant.mode },
          {
            ...(options.signal === undefined ? {} : { signal: options.signal }),
            ...(options.onQueryProgress === undefined
              ? {}
              : { onProgress: (progress: EvaluationProgress) => options.onQueryProgress?.({ ...progress, label }) }),
          },
        ),
      );
    }
    return {
      dataset: dataset.name,
      description: dataset.description,
      split: options.dataset === "llm-twin" ? null : (options.split ?? "test"),
      queryHalf: options.queryHalf ?? "all",
      store: store.location,
      embedder: embedder.id,
      queries: queries.length,
      ingest: {
        documentsRead: summary.documentsRead,
        chunksWritten: summary.chunksWritten,
        chunksUnchanged: summary.chunksUnchanged,
        durationMs: summary.durationMs,
      },
      results,
    };
  });
}
