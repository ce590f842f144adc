/**
 * Ingests an evaluation corpus through the feature pipeline (`ingest`): fingerprint-checked and
 * idempotent, so a second run over an unchanged store only re-reads and hashes the corpus.
 */
import type { Embedder } from "../../embedding/index.js";
import { type IngestProgress, type IngestSummary, ingest } from "../../ingestion/index.js";
import type { VectorStore } from "../../vector-store/index.js";
import type { EvaluationDataset } from "./datasets.js";

export async function ingestEvaluationCorpus(
  dataset: EvaluationDataset,
  store: VectorStore,
  embedder: Embedder,
  options: { recreate?: boolean; signal?: AbortSignal; onProgress?: (progress: IngestProgress) => void } = {},
): Promise<IngestSummary> {
  const summary = await ingest({
    documents: dataset.readCorpus(),
    store,
    embedder,
    recreate: options.recreate ?? false,
    ...(options.signal === undefined ? {} : { signal: options.signal }),
    ...(options.onProgress === undefined ? {} : { onProgress: options.onProgress }),
  });
  // Builds the full-text index (and the ANN index past its threshold) before the first query.
  await store.optimize();
  return summary;
}
