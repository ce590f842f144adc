/** Queue-based ingestion (BullMQ on Redis): enqueue one job per document, process with workers. */
export {
  DEFAULT_ATTEMPTS,
  DEFAULT_BACKOFF_MS,
  DEFAULT_LOCK_DURATION_MS,
  DEFAULT_MAX_STALLED_COUNT,
  DEFAULT_QUEUE_CONNECT_TIMEOUT_MS,
  DEFAULT_QUEUE_NAME,
  DEFAULT_STALLED_INTERVAL_MS,
  DEFAULT_WORKER_CONCURRENCY,
  type DeadLetter,
  deadLetterQueueName,
  type IngestionJobData,
  type IngestionJobResult,
  ingestionJobId,
  QUEUE_ATTEMPTS_VARIABLE,
  QUEUE_BACKOFF_VARIABLE,
  QUEUE_CONNECT_TIMEOUT_VARIABLE,
  QUEUE_NAME_VARIABLE,
  QUEUE_URL_VARIABLE,
} from "./config.js";
export { listDeadLetters, type QueueLocation, type QueueStatus, queueStatus } from "./dead-letters.js";
export {
  type EnqueueIngestionOptions,
  type EnqueueProgress,
  type EnqueueSummary,
  enqueueIngestion,
} from "./enqueue.js";
export { assertQueueReachable, type QueueReachabilityOptions, redactQueueUrl } from "./reachability.js";
export {
  DEFAULT_OPTIMIZE_INTERVAL_MS,
  type IngestionWorker,
  type IngestionWorkerEvent,
  type IngestionWorkerOptions,
  startIngestionWorker,
} from "./worker.js";
