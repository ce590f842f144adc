/**
 * enqueueIngestion: reads raw documents (the same readers as `llm-twin ingest`), reports the ones
 * it must skip, and adds one BullMQ job per document. Before anything is enqueued the store is
 * prepared exactly as a single-process run would (fingerprint checked, or the store recreated),
 * so workers never mix embedders. Job ids are deterministic: a document already queued or done
 * is not added again; one that failed for good is queued afresh (and leaves the dead-letter list).
 */
import { Queue } from "bullmq";
import type { DataCategory } from "../domain/index.js";
import { type CreateEmbedderOptions, createEmbedder } from "../embedding/index.js";
import { AppError } from "../errors/index.js";
import { prepareStore, requireReadableDocuments, type SkippedDocument } from "../ingestion/index.js";
import { type ReadOptions, readRawDocuments } from "../ingestion/readers/index.js";
import { createFingerprint } from "../preprocessing/index.js";
import { withResources } from "../runtime/index.js";
import { DEFAULT_STORE_URI, openVectorStore } from "../vector-store/index.js";
import {
  COMPLETED_JOB_RETENTION_SECONDS,
  DEFAULT_ATTEMPTS,
  DEFAULT_BACKOFF_MS,
  DEFAULT_QUEUE_NAME,
  deadLetterQueueName,
  ENQUEUE_BATCH_SIZE,
  type IngestionJobData,
  ingestionJobId,
  QUEUE_ATTEMPTS_VARIABLE,
  QUEUE_BACKOFF_VARIABLE,
  QUEUE_NAME_VARIABLE,
  validateQueueName,
} from "./config.js";
import { queueConnection } from "./connection.js";
import { assertQueueReachable, guardQueues } from "./reachability.js";

export type EnqueueProgress = {
  documentsRead: number;
  documentsSkipped: number;
  jobsEnqueued: number;
  jobsAlreadyQueued: number;
  elapsedMs: number;
};

export type EnqueueIngestionOptions = {
  /** redis://host:port of the BullMQ Redis. */
  queueUrl: string;
  /** A file or folder of raw documents (as `llm-twin ingest`). */
  source: string;
  /** The store the workers write to. Default lancedb:./.llm-twin/store. */
  storeUri?: string;
  /** Embedder spec ("static", "gguf:<model>"); the workers must use the same. Default "static". */
  embedderSpec?: string;
  /** An "openai:" embedder's per-attempt timeout and retries (ingest --embedder-request-timeout-ms, --embedder-retries). */
  embedderHttp?: CreateEmbedderOptions["http"];
  /** Drop the store first (as `ingest --recreate`) and re-run every document. */
  recreate?: boolean;
  /** Default LLM_TWIN_QUEUE_NAME, else llm-twin-ingest. */
  queueName?: string;
  /** Attempts per job before the dead-letter queue. Default LLM_TWIN_QUEUE_ATTEMPTS, else 5. */
  attempts?: number;
  /** First retry delay in ms (exponential). Default LLM_TWIN_QUEUE_BACKOFF_MS, else 2000. */
  backoffMs?: number;
  /** Where the defaults above are read from; default process.env (`llm-twin ingest --queue` passes none of them). */
  env?: Readonly<Record<string, string | undefined>>;
  /** Cache directory for the embedder. */
  cacheDir?: string;
  /** Reader limits (file and record sizes), as `ingest --max-file-bytes/--max-document-bytes`. */
  readOptions?: ReadOptions;
  /** Deadline for reaching Redis (checked before anything else). Default 5,000 ms. */
  connectTimeoutMs?: number;
  onProgress?: (progress: EnqueueProgress) => void;
  /** Stops at once, even while waiting for Redis (the error is `aborted`). */
  signal?: AbortSignal;
};

export type EnqueueSummary = {
  queue: string;
  source: string;
  store: string;
  embedder: string;
  fingerprint: string;
  recreated: boolean;
  documentsRead: number;
  documentsSkipped: SkippedDocument[];
  /** New jobs added (including documents that had failed for good before and are retried now). */
  jobsEnqueued: number;
  /** Documents whose job is already waiting, running or done: nothing added. */
  jobsAlreadyQueued: number;
  /** Of jobsEnqueued, the documents whose earlier job had failed for good. */
  jobsRequeued: number;
  durationMs: number;
};

type Pending = { id: string; data: IngestionJobData };

export async function enqueueIngestion(options: EnqueueIngestionOptions): Promise<EnqueueSummary> {
  const started = performance.now();
  const env = options.env ?? process.env;
  const queueName = validateQueueName(options.queueName ?? nonEmpty(env[QUEUE_NAME_VARIABLE]) ?? DEFAULT_QUEUE_NAME);
  const attempts = positiveInteger(
    options.attempts ?? numberFrom(env[QUEUE_ATTEMPTS_VARIABLE]) ?? DEFAULT_ATTEMPTS,
    `attempts (${QUEUE_ATTEMPTS_VARIABLE})`,
  );
  const backoffMs = positiveInteger(
    options.backoffMs ?? numberFrom(env[QUEUE_BACKOFF_VARIABLE]) ?? DEFAULT_BACKOFF_MS,
    `backoff (${QUEUE_BACKOFF_VARIABLE})`,
  );
  const storeUri = options.storeUri ?? DEFAULT_STORE_URI;
  const embedderSpec = options.embedderSpec ?? "static";
  const connectTimeoutMs = options.connectTimeoutMs;
  const connection = queueConnection(options.queueUrl, {
    role: "client",
    ...(connectTimeoutMs === undefined ? {} : { connectTimeoutMs }),
  });
  // Fail fast, before the store is touched, when Redis is not there.
  await assertQueueReachable({
    queueUrl: options.queueUrl,
    ...(connectTimeoutMs === undefined ? {} : { timeoutMs: connectTimeoutMs }),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  });

  // An input without one readable record fails here, before the store or the queue is touched.
  const documents = await requireReadableDocuments(
    readRawDocuments(options.source, options.readOptions ?? {}),
    options.source,
  );

  // Prepare the store exactly as a single-process run does, before the first job exists. The
  // embedder and the store are released through one stack (src/runtime), also when this fails.
  const { fingerprint, embedderId, recreated } = await withResources(async (resources) => {
    const embedder = resources.use(
      "embedder",
      await createEmbedder(embedderSpec, {
        ...(options.cacheDir === undefined ? {} : { cacheDir: options.cacheDir }),
        ...(options.embedderHttp === undefined ? {} : { http: options.embedderHttp }),
      }),
    );
    const fingerprint = createFingerprint(embedder);
    const store = resources.use("store", await openVectorStore(storeUri));
    const { recreated } = await prepareStore(store, fingerprint, { recreate: options.recreate === true });
    return { fingerprint, embedderId: embedder.id, recreated };
  });

  const queue = new Queue<IngestionJobData>(queueName, { connection });
  const deadLetters = new Queue(deadLetterQueueName(queueName), { connection });
  const guard = guardQueues([queue, deadLetters], { queueUrl: options.queueUrl, signal: options.signal });
  const progress: EnqueueProgress = {
    documentsRead: 0,
    documentsSkipped: 0,
    jobsEnqueued: 0,
    jobsAlreadyQueued: 0,
    elapsedMs: 0,
  };
  const skipped: SkippedDocument[] = [];
  const seen = new Map<string, string>();
  let requeued = 0;
  let batch: Pending[] = [];

  const report = (): void => {
    progress.elapsedMs = performance.now() - started;
    options.onProgress?.({ ...progress });
  };

  const flush = async (): Promise<void> => {
    if (batch.length === 0) return;
    const current = batch;
    batch = [];
    const states = await Promise.all(current.map((pending) => queue.getJobState(pending.id)));
    const toAdd: Pending[] = [];
    for (const [position, pending] of current.entries()) {
      const state = states[position];
      const rerun = state === "failed" || (options.recreate === true && state === "completed");
      if (rerun) {
        await queue.remove(pending.id);
        await deadLetters.remove(pending.id);
        if (state === "failed") requeued++;
        toAdd.push(pending);
      } else if (state === "unknown") {
        toAdd.push(pending);
      } else {
        progress.jobsAlreadyQueued++;
      }
    }
    if (toAdd.length > 0) {
      await queue.addBulk(
        toAdd.map((pending) => ({
          name: "ingest-document",
          data: pending.data,
          opts: {
            jobId: pending.id,
            attempts,
            backoff: { type: "exponential", delay: backoffMs },
            removeOnComplete: { age: COMPLETED_JOB_RETENTION_SECONDS },
            removeOnFail: false,
          },
        })),
      );
      progress.jobsEnqueued += toAdd.length;
    }
    report();
  };

  try {
    for await (const result of documents) {
      if (options.signal?.aborted)
        throw new AppError("aborted", "enqueueing was aborted", { cause: options.signal.reason });
      if (!result.ok) {
        skipped.push({ ...result.source, reason: result.reason });
        progress.documentsSkipped++;
        continue;
      }
      const { document, source, sourceHash } = result;
      // Same rule as the single-process pipeline: the first record with an id wins.
      const key = `${document.category}\u0000${document.id}`;
      const firstSeen = seen.get(key);
      if (firstSeen !== undefined) {
        skipped.push({
          ...source,
          reason: `duplicate ${document.category} id "${document.id}" (first read at ${firstSeen})`,
        });
        progress.documentsSkipped++;
        continue;
      }
      seen.set(key, `${source.file}:${source.index}`);
      progress.documentsRead++;
      batch.push({
        id: ingestionJobId(document.category as DataCategory, document.id, sourceHash),
        data: { version: 1, document, source, sourceHash, storeUri, embedderSpec, fingerprint: fingerprint.hash },
      });
      if (batch.length >= ENQUEUE_BATCH_SIZE) await flush();
    }
    await flush();
    report();
  } catch (error) {
    throw guard.translate(error);
  } finally {
    guard.dispose();
    await Promise.allSettled([queue.close(), deadLetters.close()]);
  }
  return {
    queue: queueName,
    source: options.source,
    store: storeUri,
    embedder: embedderId,
    fingerprint: fingerprint.hash,
    recreated,
    documentsRead: progress.documentsRead,
    documentsSkipped: skipped,
    jobsEnqueued: progress.jobsEnqueued,
    jobsAlreadyQueued: progress.jobsAlreadyQueued,
    jobsRequeued: requeued,
    durationMs: Math.round(performance.now() - started),
  };
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === "" ? undefined : value.trim();
}

function numberFrom(value: string | undefined): number | undefined {
  const text = nonEmpty(value);
  return text === undefined ? undefined : Number(text);
}

function positiveInteger(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 1)
    throw new AppError("configuration_error", `${name} must be a positive integer (got ${value})`);
  return value;
}
