/**
 * The ingestion worker: takes one-document jobs from the BullMQ queue and runs each through the
 * pipeline's per-document entry (`createDocumentIngester` from src/ingestion: the same cleaning,
 * chunking, per-document diffing, deterministic chunk ids and order "upsert, then delete stale
 * ids" as `ingest`): idempotent, and safe to kill at any moment.
 *
 * - Retries: a failed job is retried with exponential backoff up to its `attempts`; errors that
 *   cannot get better (bad job data, invalid document, fingerprint mismatch) fail at once.
 * - Dead letters: a job that fails for good is copied, with its reason, to `<queue>-dead-letter`.
 * - Crashes: a killed worker stops renewing its job locks; after `lockDurationMs` another worker's
 *   stalled-job check puts the job back in the queue and it runs again (idempotently).
 * - Fingerprint: with a fixed store, the worker checks the store's fingerprint against its own at
 *   start and refuses to run on a mismatch; every job must carry the worker's fingerprint.
 * - Indexes: jobs do not rebuild the store's indexes (store.optimize) — doing it after every
 *   document made two workers' LanceDB commits conflict. Each worker optimizes the stores it
 *   changed when the queue drains, at most every `optimizeIntervalMs` while jobs keep coming, and
 *   once more on a graceful stop. An optimize failure (e.g. a commit conflict with another worker's) is
 *   reported as an "error" event and retried at the next occasion; rows written meanwhile are
 *   searchable (unindexed rows are scanned).
 * - `[Symbol.asyncDispose]()` (on SIGTERM) stops taking jobs and waits for the running ones;
 *   `abandon()` drops the connections at once. Everything the worker opens is owned by one resource
 *   stack (src/runtime), so a start-up failing half-way releases what it had already opened.
 */
import { type Job, Queue, UnrecoverableError, Worker } from "bullmq";
import type { RawDocument } from "../domain/index.js";
import { type CreateEmbedderOptions, STATIC_EMBEDDER_SPEC } from "../embedding/index.js";
import { AppError, type ErrorCode } from "../errors/index.js";
import type { ReadResult } from "../ingestion/readers/index.js";
import { assertFingerprintMatches } from "../preprocessing/index.js";
import { acquire } from "../runtime/index.js";
import {
  DEFAULT_LOCK_DURATION_MS,
  DEFAULT_MAX_STALLED_COUNT,
  DEFAULT_OPTIMIZE_INTERVAL_MS,
  DEFAULT_QUEUE_NAME,
  DEFAULT_STALLED_INTERVAL_MS,
  DEFAULT_WORKER_CONCURRENCY,
  type DeadLetter,
  deadLetterQueueName,
  type IngestionJobData,
  type IngestionJobResult,
  ingestionJobData,
  validateQueueName,
} from "./config.js";
import { queueConnection } from "./connection.js";
import { assertQueueReachable } from "./reachability.js";
import { createWorkerResources, describeError } from "./worker-resources.js";

export type IngestionWorkerEvent =
  | { type: "completed"; jobId: string; documentId: string; result: IngestionJobResult; durationMs: number }
  | { type: "retrying"; jobId: string; documentId: string | null; attemptsMade: number; reason: string }
  | { type: "dead-letter"; deadLetter: DeadLetter }
  | { type: "optimized"; store: string; durationMs: number }
  | { type: "error"; message: string };

export type IngestionWorkerOptions = {
  queueUrl: string;
  queueName?: string;
  /** Jobs processed at once by this process. Default 1. */
  concurrency?: number;
  /** Only serve this store (jobs for another store are dead-lettered); default: each job's own store. */
  storeUri?: string;
  /** Only use this embedder; default: "static" when storeUri is set, else each job's own embedder spec. */
  embedderSpec?: string;
  cacheDir?: string;
  /** An "openai:" embedder's per-attempt timeout and retries (worker --embedder-request-timeout-ms, --embedder-retries). */
  embedderHttp?: CreateEmbedderOptions["http"];
  lockDurationMs?: number;
  stalledIntervalMs?: number;
  maxStalledCount?: number;
  /** While jobs keep coming, changed stores are optimized (indexes rebuilt) at most this often. Default 60,000 ms. */
  optimizeIntervalMs?: number;
  onEvent?: (event: IngestionWorkerEvent) => void;
  /** Deadline for reaching Redis at start (checked before anything else). Default 5,000 ms. */
  connectTimeoutMs?: number;
  /** Stops the start-up (the Redis check) at once. */
  signal?: AbortSignal;
};

export { DEFAULT_OPTIMIZE_INTERVAL_MS };

/** How long a forced close waits for the connections to report their end. */
const FORCE_DISCONNECT_GRACE_MS = 1_000;

export type IngestionWorker = {
  /** Resolves once the worker is connected and taking jobs. */
  readonly ready: Promise<void>;
  /** What the worker holds, oldest first (stores and embedders, dead-letter queue, worker, timer). */
  readonly held: readonly string[];
  /** Stops taking jobs, waits for the running ones, optimizes changed stores, releases everything. */
  [Symbol.asyncDispose](): Promise<void>;
  /** Drops the connections at once (Redis may be gone): running jobs go back to the stalled check. */
  abandon(): Promise<void>;
};

const PERMANENT_CODES: ReadonlySet<ErrorCode> = new Set([
  "bad_request",
  "validation_error",
  "invalid_document",
  "input_too_long",
  "fingerprint_mismatch",
  "dimension_mismatch",
  "configuration_error",
]);

export async function startIngestionWorker(options: IngestionWorkerOptions): Promise<IngestionWorker> {
  const queueName = validateQueueName(options.queueName ?? DEFAULT_QUEUE_NAME);
  const optimizeIntervalMs = options.optimizeIntervalMs ?? DEFAULT_OPTIMIZE_INTERVAL_MS;
  if (!Number.isInteger(optimizeIntervalMs) || optimizeIntervalMs < 1)
    throw new AppError(
      "configuration_error",
      `optimizeIntervalMs must be a positive integer (got ${optimizeIntervalMs})`,
    );
  const connectTimeoutMs = options.connectTimeoutMs;
  const connection = queueConnection(options.queueUrl, {
    role: "worker",
    ...(connectTimeoutMs === undefined ? {} : { connectTimeoutMs }),
  });
  await assertQueueReachable({
    queueUrl: options.queueUrl,
    ...(connectTimeoutMs === undefined ? {} : { timeoutMs: connectTimeoutMs }),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  });
  const emit = (event: IngestionWorkerEvent) => options.onEvent?.(event);
  // A worker bound to a store has one embedder (enqueue's default, static, unless told); otherwise
  // each job says which embedder made its store.
  const fixedEmbedderSpec = options.embedderSpec ?? (options.storeUri === undefined ? undefined : STATIC_EMBEDDER_SPEC);
  // Set by abandon(): the releases below then drop connections instead of closing cleanly.
  let abandoning = false;
  const { value: started, stack } = await acquire(async (owned) => {
    const resources = createWorkerResources({
      ...(options.cacheDir === undefined ? {} : { cacheDir: options.cacheDir }),
      ...(options.embedderHttp === undefined ? {} : { http: options.embedderHttp }),
    });
    owned.defer("stores and embedders", () => resources.release());
    owned.defer("final optimize", async () => {
      if (!abandoning) await resources.optimizeChanged(emit);
    });

    // Refuse to start against a store built with other preprocessing or another embedder.
    if (options.storeUri !== undefined && fixedEmbedderSpec !== undefined) {
      const { fingerprint } = await resources.embedderFor(fixedEmbedderSpec);
      const metadata = await (await resources.storeFor(options.storeUri)).readMetadata();
      if (metadata !== undefined) {
        assertFingerprintMatches(metadata.fingerprint, fingerprint, {
          location: options.storeUri,
          advice: "re-ingest it with --recreate, or start the worker with the embedder the store was built with",
        });
      }
    }
    const deadLetters = new Queue(deadLetterQueueName(queueName), { connection });
    owned.defer("dead-letter queue", async () => {
      if (!abandoning) await deadLetters.close();
    });
    // Connection errors are the worker's to report (below), not BullMQ's to print with their stacks.
    deadLetters.on("error", () => undefined);
    // Jobs this process already dead-lettered (the processor and the failed event both report the
    // last failure). Keyed by id and creation time: a document queued afresh is a new job.
    const deadLettered = new Set<string>();
    const moveToDeadLetters = async (job: Job, reason: string, attemptsMade: number): Promise<void> => {
      const key = `${job.id}@${job.timestamp}`;
      if (deadLettered.has(key)) return;
      const data = job.data as Partial<IngestionJobData> | undefined;
      const deadLetter: DeadLetter = {
        jobId: String(job.id),
        queue: queueName,
        documentId: typeof data?.document?.id === "string" ? data.document.id : null,
        category: typeof data?.document?.category === "string" ? data.document.category : null,
        source: data?.source ?? null,
        reason,
        attemptsMade,
        failedAt: new Date().toISOString(),
      };
      // Same id as the job: recording a dead letter twice (processor and failed event) keeps one.
      await deadLetters.add("dead-letter", deadLetter, {
        jobId: String(job.id),
        removeOnComplete: false,
        removeOnFail: false,
      });
      deadLettered.add(key);
      emit({ type: "dead-letter", deadLetter });
    };

    const processJob = async (job: Job): Promise<IngestionJobResult> => {
      const started = performance.now();
      const attempts = job.opts.attempts ?? 1;
      const lastAttempt = job.attemptsMade + 1 >= attempts;
      try {
        const parsed = ingestionJobData.safeParse(job.data);
        if (!parsed.success) {
          throw new AppError(
            "validation_error",
            `malformed job data: ${parsed.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`).join("; ")}`,
          );
        }
        const data = parsed.data;
        const storeUri = options.storeUri ?? data.storeUri;
        if (options.storeUri !== undefined && data.storeUri !== options.storeUri) {
          throw new AppError(
            "configuration_error",
            `the job is for the store ${data.storeUri}, this worker serves ${options.storeUri}`,
          );
        }
        const { embedder, fingerprint } = await resources.embedderFor(fixedEmbedderSpec ?? data.embedderSpec);
        if (fingerprint.hash !== data.fingerprint) {
          throw new AppError(
            "fingerprint_mismatch",
            `the job was enqueued with preprocessing fingerprint ${data.fingerprint}, this worker's is ${fingerprint.hash} (embedder ${embedder.id})`,
          );
        }
        const ingester = await resources.ingesterFor(storeUri, fixedEmbedderSpec ?? data.embedderSpec);
        const document: ReadResult = {
          ok: true,
          document: data.document as unknown as RawDocument,
          source: data.source,
          sourceHash: data.sourceHash,
        };
        const summary = await ingester.ingestDocument(document);
        if (summary.skipped !== undefined) throw new AppError("invalid_document", summary.skipped);
        const result = {
          chunksWritten: summary.chunksWritten,
          chunksUnchanged: summary.chunksUnchanged,
          chunksDeleted: summary.chunksDeleted,
        };
        emit({
          type: "completed",
          jobId: String(job.id),
          documentId: data.document.id,
          result,
          durationMs: Math.round(performance.now() - started),
        });
        return result;
      } catch (error) {
        const reason = describeError(error);
        const permanent = error instanceof AppError && PERMANENT_CODES.has(error.code);
        if (permanent || lastAttempt) {
          await moveToDeadLetters(job, reason, job.attemptsMade + 1);
          throw permanent ? new UnrecoverableError(reason) : error;
        }
        emit({
          type: "retrying",
          jobId: String(job.id),
          documentId: (job.data as Partial<IngestionJobData>)?.document?.id ?? null,
          attemptsMade: job.attemptsMade + 1,
          reason,
        });
        throw error;
      }
    };

    const worker = new Worker(queueName, processJob, {
      connection,
      concurrency: options.concurrency ?? DEFAULT_WORKER_CONCURRENCY,
      lockDuration: options.lockDurationMs ?? DEFAULT_LOCK_DURATION_MS,
      stalledInterval: options.stalledIntervalMs ?? DEFAULT_STALLED_INTERVAL_MS,
      maxStalledCount: options.maxStalledCount ?? DEFAULT_MAX_STALLED_COUNT,
      autorun: true,
    });
    owned.defer("queue worker", async () => {
      if (!abandoning) await worker.close();
    });
    // Jobs that fail without reaching the processor's catch (stalled too often) still get a dead letter.
    worker.on("failed", (job, error) => {
      if (job === undefined) return;
      const attempts = job.opts.attempts ?? 1;
      const final =
        error instanceof UnrecoverableError || job.attemptsMade >= attempts || /stalled/i.test(error.message);
      if (final)
        moveToDeadLetters(job, error.message, job.attemptsMade).catch((failure) =>
          emit({ type: "error", message: describeError(failure) }),
        );
    });
    // A lost Redis makes BullMQ report every reconnect attempt: say it once until something else happens.
    let lastErrorMessage: string | undefined;
    worker.on("error", (error) => {
      const message = describeError(error);
      if (message === lastErrorMessage) return;
      lastErrorMessage = message;
      emit({ type: "error", message });
    });
    worker.on("completed", () => {
      lastErrorMessage = undefined;
    });
    // Index building: when the queue drains, and on a timer while it does not.
    worker.on("drained", () => {
      void resources.optimizeChanged(emit);
    });
    const optimizeTimer = setInterval(() => void resources.optimizeChanged(emit), optimizeIntervalMs);
    optimizeTimer.unref();
    owned.defer("optimize timer", () => clearInterval(optimizeTimer));
    return { worker, deadLetters, resources };
  });
  const { worker, deadLetters, resources } = started;
  let abandoned: Promise<void> | undefined;
  return {
    ready: worker.waitUntilReady().then(() => undefined),
    get held() {
      return stack.held;
    },
    [Symbol.asyncDispose]: () => stack.disposeAsync(),
    abandon() {
      abandoned ??= (async () => {
        // Closing cleanly needs Redis (it may be gone): drop the connections instead; the running
        // jobs' locks expire and another worker retries them.
        // (ioredis may never report the end of a connection that is between reconnect attempts:
        // wait for it at most FORCE_DISCONNECT_GRACE_MS.)
        abandoning = true;
        worker.close(true).catch(() => undefined);
        await Promise.race([
          Promise.allSettled([worker.disconnect(), deadLetters.disconnect()]),
          new Promise((resolveGrace) => setTimeout(resolveGrace, FORCE_DISCONNECT_GRACE_MS).unref()),
        ]);
        // A graceful stop already under way waits for the running jobs: release around it.
        if (stack.disposed) await resources.release();
        else await stack.disposeAsync();
      })();
      return abandoned;
    },
  };
}
