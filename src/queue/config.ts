/**
 * Names, defaults and the job payload of queue-based ingestion (BullMQ on Redis). One job is one
 * raw document; its id is derived from the document and its source bytes, so enqueuing the same
 * input twice adds nothing.
 */
import { createHash } from "node:crypto";
import { z } from "zod";
import type { DataCategory } from "../domain/index.js";
import { AppError } from "../errors/index.js";

/** While jobs keep coming, changed stores are optimized (indexes rebuilt) at most this often. */
export const DEFAULT_OPTIMIZE_INTERVAL_MS = 60_000;

export const DEFAULT_QUEUE_NAME = "llm-twin-ingest";
/** Attempts per job before it is moved to the dead-letter queue. */
export const DEFAULT_ATTEMPTS = 5;
/** First retry delay; it doubles on every further attempt. */
export const DEFAULT_BACKOFF_MS = 2_000;
/** Jobs processed at once by one worker process. */
export const DEFAULT_WORKER_CONCURRENCY = 1;
/** How long a worker's lock on a job lasts without renewal; a killed worker's jobs return after it. */
export const DEFAULT_LOCK_DURATION_MS = 30_000;
/** How often workers look for jobs whose lock expired (stalled: their worker died). */
export const DEFAULT_STALLED_INTERVAL_MS = 30_000;
/** How many times a job may stall (kill its worker) before it fails for good. */
export const DEFAULT_MAX_STALLED_COUNT = 2;
/** Jobs added per round trip when enqueuing. */
export const ENQUEUE_BATCH_SIZE = 500;
/** Completed jobs are kept this long (they are what makes re-enqueuing a no-op). */
export const COMPLETED_JOB_RETENTION_SECONDS = 14 * 24 * 3600;

/** How long to wait for the queue's Redis to accept a connection and answer PING. */
export const DEFAULT_QUEUE_CONNECT_TIMEOUT_MS = 5_000;
export const QUEUE_CONNECT_TIMEOUT_VARIABLE = "LLM_TWIN_QUEUE_CONNECT_TIMEOUT_MS";
export const QUEUE_URL_VARIABLE = "LLM_TWIN_QUEUE_URL";
export const QUEUE_NAME_VARIABLE = "LLM_TWIN_QUEUE_NAME";
export const QUEUE_ATTEMPTS_VARIABLE = "LLM_TWIN_QUEUE_ATTEMPTS";
export const QUEUE_BACKOFF_VARIABLE = "LLM_TWIN_QUEUE_BACKOFF_MS";

export function deadLetterQueueName(queueName: string): string {
  return `${queueName}-dead-letter`;
}

/** The queue name must be a plain Redis-key-friendly word (BullMQ uses it inside its keys). */
export function validateQueueName(name: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/.test(name)) {
    throw new AppError(
      "configuration_error",
      `invalid queue name "${name}": use letters, digits, '.', '_' and '-' (--queue-name, ${QUEUE_NAME_VARIABLE})`,
    );
  }
  return name;
}

/** redis:// or rediss:// URL (credentials and database allowed: redis://user:pass@host:6379/2). */
export function validateQueueUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new AppError(
      "configuration_error",
      `invalid queue URL "${url}": expected redis://host:port (--queue, ${QUEUE_URL_VARIABLE})`,
    );
  }
  if (parsed.protocol !== "redis:" && parsed.protocol !== "rediss:") {
    throw new AppError(
      "configuration_error",
      `invalid queue URL "${url}": the scheme must be redis:// or rediss:// (--queue, ${QUEUE_URL_VARIABLE})`,
    );
  }
  return url;
}

/** Deterministic job id: same category, document id and source record → same id (BullMQ ids may not contain ':'). */
export function ingestionJobId(category: DataCategory, documentId: string, sourceHash: string): string {
  const digest = createHash("sha256").update(`${category}\u0000${documentId}\u0000${sourceHash}`).digest("hex");
  return `${category}-${digest.slice(0, 40)}`;
}

const sourcePosition = z.object({ file: z.string(), index: z.number().int() });

/** What a job carries: the raw document as read, where it came from, and how to process it. */
export const ingestionJobData = z.object({
  version: z.literal(1),
  document: z.looseObject({ id: z.string().min(1), category: z.enum(["articles", "posts", "repositories"]) }),
  source: sourcePosition,
  sourceHash: z.string().min(1),
  storeUri: z.string().min(1),
  embedderSpec: z.string().min(1),
  /** Preprocessing fingerprint hash of the enqueuing run; workers refuse jobs whose hash differs from theirs. */
  fingerprint: z.string().min(1),
});
export type IngestionJobData = z.infer<typeof ingestionJobData>;

export type IngestionJobResult = {
  chunksWritten: number;
  chunksUnchanged: number;
  chunksDeleted: number;
};

/** An entry of the dead-letter queue: the job that failed for good, and why. */
export type DeadLetter = {
  jobId: string;
  queue: string;
  documentId: string | null;
  category: string | null;
  source: { file: string; index: number } | null;
  reason: string;
  attemptsMade: number;
  failedAt: string;
};
