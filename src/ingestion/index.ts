/** The feature pipeline: ingestion into the vector store, and the dataset artifacts it writes. */

export * from "./artifacts/index.js";
export { countInputDocuments } from "./count.js";
export { createDocumentIngester, type DocumentIngester, type DocumentIngestResult } from "./document-ingester.js";
export { prepareStore } from "./fingerprint-guard.js";
export { ingest } from "./pipeline.js";
export { noRecordError, requireReadableDocuments } from "./require-documents.js";
export { formatIngestSummary } from "./summary.js";
export {
  DEFAULT_INGEST_BATCH_SIZE,
  DEFAULT_INGEST_CONCURRENCY,
  DEFAULT_INGEST_WORKER_THREAD,
  type IngestOptions,
  type IngestProgress,
  type IngestSummary,
  type SkippedDocument,
  type WorkerThreadMode,
} from "./types.js";
