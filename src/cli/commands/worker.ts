/**
 * `llm-twin worker`: processes the ingestion jobs that `llm-twin ingest --queue` enqueued
 * (src/queue). Also lists dead letters (`--dead-letters`) and job counts (`--status`).
 */
import { type Command, Option } from "commander";
import { z } from "zod";
import { AppError } from "../../errors/index.js";
import {
  DEFAULT_LOCK_DURATION_MS,
  DEFAULT_MAX_STALLED_COUNT,
  DEFAULT_OPTIMIZE_INTERVAL_MS,
  DEFAULT_QUEUE_CONNECT_TIMEOUT_MS,
  DEFAULT_QUEUE_NAME,
  DEFAULT_STALLED_INTERVAL_MS,
  DEFAULT_WORKER_CONCURRENCY,
  QUEUE_CONNECT_TIMEOUT_VARIABLE,
} from "../../queue/config.js";
import type { IngestionWorkerEvent, QueueLocation } from "../../queue/index.js";
import { handleShutdownSignals } from "../../runtime/index.js";

export const DEFAULT_SHUTDOWN_TIMEOUT_MS = 60_000;
/** After "worker: stopped", how long leftover connections may keep the process alive. */
const LINGER_AFTER_STOP_MS = 2_000;

type RawOptions = Record<string, string | boolean | undefined>;

const positiveInteger = (name: string) =>
  z.coerce
    .number({ error: `${name} must be a positive integer` })
    .int(`${name} must be a positive integer`)
    .positive(`${name} must be a positive integer`);

const configSchema = z.object({
  queueUrl: z.string({ error: "--queue (or LLM_TWIN_QUEUE_URL) is required: the redis:// URL of the queue" }).min(1),
  queueName: z.string().min(1),
  concurrency: positiveInteger("--concurrency (LLM_TWIN_WORKER_CONCURRENCY)"),
  store: z.string().min(1).optional(),
  embedder: z.string().min(1).optional(),
  lockDurationMs: positiveInteger("--lock-duration-ms (LLM_TWIN_WORKER_LOCK_DURATION_MS)"),
  stalledIntervalMs: positiveInteger("--stalled-interval-ms (LLM_TWIN_WORKER_STALLED_INTERVAL_MS)"),
  maxStalledCount: positiveInteger("--max-stalled-count (LLM_TWIN_WORKER_MAX_STALLED_COUNT)"),
  shutdownTimeoutMs: positiveInteger("--shutdown-timeout-ms (LLM_TWIN_WORKER_SHUTDOWN_TIMEOUT_MS)"),
  optimizeIntervalMs: positiveInteger("--optimize-interval-ms (LLM_TWIN_WORKER_OPTIMIZE_INTERVAL_MS)"),
  connectTimeoutMs: positiveInteger(`--queue-connect-timeout-ms (${QUEUE_CONNECT_TIMEOUT_VARIABLE})`),
  cacheDir: z.string().min(1).optional(),
});
type WorkerConfig = z.infer<typeof configSchema>;

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === "" ? undefined : value.trim();
}

function resolveConfig(options: RawOptions, env: NodeJS.ProcessEnv): WorkerConfig {
  const pick = (flag: string, variable: string, fallback?: string | number) =>
    nonEmpty(typeof options[flag] === "string" ? (options[flag] as string) : undefined) ??
    nonEmpty(env[variable]) ??
    fallback;
  const parsed = configSchema.safeParse({
    queueUrl: pick("queue", "LLM_TWIN_QUEUE_URL"),
    queueName: pick("queueName", "LLM_TWIN_QUEUE_NAME", DEFAULT_QUEUE_NAME),
    concurrency: pick("concurrency", "LLM_TWIN_WORKER_CONCURRENCY", DEFAULT_WORKER_CONCURRENCY),
    store: pick("store", "LLM_TWIN_STORE"),
    embedder: pick("embedder", "LLM_TWIN_EMBEDDER"),
    lockDurationMs: pick("lockDurationMs", "LLM_TWIN_WORKER_LOCK_DURATION_MS", DEFAULT_LOCK_DURATION_MS),
    stalledIntervalMs: pick("stalledIntervalMs", "LLM_TWIN_WORKER_STALLED_INTERVAL_MS", DEFAULT_STALLED_INTERVAL_MS),
    maxStalledCount: pick("maxStalledCount", "LLM_TWIN_WORKER_MAX_STALLED_COUNT", DEFAULT_MAX_STALLED_COUNT),
    shutdownTimeoutMs: pick("shutdownTimeoutMs", "LLM_TWIN_WORKER_SHUTDOWN_TIMEOUT_MS", DEFAULT_SHUTDOWN_TIMEOUT_MS),
    optimizeIntervalMs: pick(
      "optimizeIntervalMs",
      "LLM_TWIN_WORKER_OPTIMIZE_INTERVAL_MS",
      DEFAULT_OPTIMIZE_INTERVAL_MS,
    ),
    connectTimeoutMs: pick("queueConnectTimeoutMs", QUEUE_CONNECT_TIMEOUT_VARIABLE, DEFAULT_QUEUE_CONNECT_TIMEOUT_MS),
    cacheDir: nonEmpty(env.LLM_TWIN_CACHE_DIR),
  });
  if (!parsed.success) {
    throw new AppError("configuration_error", parsed.error.issues.map((issue) => issue.message).join("; "));
  }
  return parsed.data;
}

function formatEvent(event: IngestionWorkerEvent): string {
  switch (event.type) {
    case "completed":
      return `worker: ingested ${event.documentId} (${event.result.chunksWritten} chunks written, ${event.result.chunksUnchanged} unchanged, ${event.result.chunksDeleted} deleted) in ${event.durationMs} ms`;
    case "retrying":
      return `worker: attempt ${event.attemptsMade} of ${event.documentId ?? event.jobId} failed, will retry: ${event.reason}`;
    case "dead-letter":
      return `worker: ${event.deadLetter.documentId ?? event.deadLetter.jobId} moved to the dead-letter queue after ${event.deadLetter.attemptsMade} attempt(s): ${event.deadLetter.reason}`;
    case "optimized":
      return `worker: rebuilt the indexes of ${event.store} in ${event.durationMs} ms`;
    case "error":
      return `worker: ${event.message}`;
  }
}

/** `promise`, or an `aborted` error as soon as the signal fires. */
function unlessAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(new AppError("aborted", "interrupted while connecting to the queue"));
    if (signal.aborted) onAbort();
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

async function runWorker(config: WorkerConfig, json: boolean): Promise<void> {
  const log = (event: IngestionWorkerEvent) => {
    if (json) process.stdout.write(`${JSON.stringify(event)}\n`);
    else process.stderr.write(`${formatEvent(event)}\n`);
  };
  // Loaded here, not at the top: `--help` must not pay for BullMQ and Redis.
  const { startIngestionWorker } = await import("../../queue/index.js");
  // One signal path (src/runtime), installed before anything is opened. During start-up the first
  // signal aborts it (what was opened is released); once running, it lets running jobs finish,
  // bounded by --shutdown-timeout-ms (then they are abandoned and retried elsewhere). A second
  // signal exits at once.
  const starting = new AbortController();
  let running: Awaited<ReturnType<typeof startIngestionWorker>> | undefined;
  let stopped: () => void = () => undefined;
  const whenStopped = new Promise<void>((resolve) => {
    stopped = resolve;
  });
  const stopHandlingSignals = handleShutdownSignals({
    name: "worker",
    exitWhenDone: false,
    log: (message) => process.stderr.write(`worker: ${message}\n`),
    shutdown: async (signal) => {
      starting.abort(new AppError("aborted", `interrupted (${signal})`));
      const worker = running;
      if (worker === undefined) return;
      process.stderr.write(`worker: finishing running jobs (at most ${config.shutdownTimeoutMs} ms)\n`);
      const timer = setTimeout(() => {
        process.stderr.write("worker: shutdown timeout, abandoning running jobs (they will be retried)\n");
        void worker.abandon().finally(stopped);
      }, config.shutdownTimeoutMs);
      timer.unref();
      await worker[Symbol.asyncDispose]();
      clearTimeout(timer);
      stopped();
    },
  });
  try {
    const worker = await startIngestionWorker({
      queueUrl: config.queueUrl,
      queueName: config.queueName,
      concurrency: config.concurrency,
      ...(config.store === undefined ? {} : { storeUri: config.store }),
      ...(config.embedder === undefined ? {} : { embedderSpec: config.embedder }),
      ...(config.cacheDir === undefined ? {} : { cacheDir: config.cacheDir }),
      lockDurationMs: config.lockDurationMs,
      stalledIntervalMs: config.stalledIntervalMs,
      maxStalledCount: config.maxStalledCount,
      optimizeIntervalMs: config.optimizeIntervalMs,
      connectTimeoutMs: config.connectTimeoutMs,
      signal: starting.signal,
      onEvent: log,
    });
    try {
      await unlessAborted(worker.ready, starting.signal);
    } catch (error) {
      await worker.abandon();
      throw error;
    }
    running = worker;
  } catch (error) {
    stopHandlingSignals();
    throw error;
  }
  process.stderr.write(
    `worker: listening on queue ${config.queueName} (concurrency ${config.concurrency}, store ${config.store ?? "per job"})\n`,
  );
  await whenStopped;
  stopHandlingSignals();
  process.stderr.write("worker: stopped\n");
  // A connection to a Redis that went away can stay between reconnect attempts after being told to
  // close; it must not keep a stopped worker alive (the timer does not, if nothing else does).
  setTimeout(() => process.exit(), LINGER_AFTER_STOP_MS).unref();
}

export function registerWorkerCommand(program: Command): void {
  program
    .command("worker")
    .description(
      "Process queued ingestion jobs (enqueued by `llm-twin ingest --queue`); several workers may run in parallel",
    )
    .option("--queue <url>", "redis:// URL of the BullMQ queue (env LLM_TWIN_QUEUE_URL)")
    .option("--queue-name <name>", `queue name (env LLM_TWIN_QUEUE_NAME, default ${DEFAULT_QUEUE_NAME})`)
    .option(
      "--concurrency <n>",
      `jobs processed at once by this process (env LLM_TWIN_WORKER_CONCURRENCY, default ${DEFAULT_WORKER_CONCURRENCY})`,
    )
    .option(
      "--store <uri>",
      "only serve this store, checking its fingerprint at start (env LLM_TWIN_STORE; default: each job's store)",
    )
    .option("--embedder <spec>", "embedder spec (env LLM_TWIN_EMBEDDER; default: each job's embedder)")
    .option(
      "--lock-duration-ms <ms>",
      `job lock; a killed worker's job is retried after it (env LLM_TWIN_WORKER_LOCK_DURATION_MS, default ${DEFAULT_LOCK_DURATION_MS})`,
    )
    .option(
      "--stalled-interval-ms <ms>",
      `how often stalled jobs are looked for (env LLM_TWIN_WORKER_STALLED_INTERVAL_MS, default ${DEFAULT_STALLED_INTERVAL_MS})`,
    )
    .option(
      "--max-stalled-count <n>",
      `stalls allowed before a job fails (env LLM_TWIN_WORKER_MAX_STALLED_COUNT, default ${DEFAULT_MAX_STALLED_COUNT})`,
    )
    .option(
      "--shutdown-timeout-ms <ms>",
      `on SIGTERM, wait this long for running jobs (env LLM_TWIN_WORKER_SHUTDOWN_TIMEOUT_MS, default ${DEFAULT_SHUTDOWN_TIMEOUT_MS})`,
    )
    .option(
      "--optimize-interval-ms <ms>",
      `while jobs keep coming, rebuild changed stores' indexes at most this often; also when the queue drains (env LLM_TWIN_WORKER_OPTIMIZE_INTERVAL_MS, default ${DEFAULT_OPTIMIZE_INTERVAL_MS})`,
    )
    .option(
      "--queue-connect-timeout-ms <ms>",
      `give up when Redis does not answer within this time (env ${QUEUE_CONNECT_TIMEOUT_VARIABLE}, default ${DEFAULT_QUEUE_CONNECT_TIMEOUT_MS})`,
    )
    .option("--dead-letters", "list the jobs that failed for good, with their reasons, and exit")
    .option("--status", "print the queue's job counts and exit")
    .addOption(
      new Option("--json", "machine-readable output (one JSON object, or JSON lines while working)").env(
        "LLM_TWIN_JSON",
      ),
    )
    .action(async (options: RawOptions) => {
      const config = resolveConfig(options, process.env);
      const json = options.json === true;
      if (options.deadLetters === true || options.status === true) {
        // Ctrl-C stops the Redis calls (one signal path, src/runtime); again exits at once.
        const controller = new AbortController();
        const stopHandlingSignals = handleShutdownSignals({
          name: "worker",
          exitWhenDone: false,
          log: (message) => process.stderr.write(`worker: ${message}\n`),
          shutdown: (signal) => controller.abort(new AppError("aborted", `interrupted (${signal})`)),
        });
        try {
          await printQueueState(
            {
              queueUrl: config.queueUrl,
              queueName: config.queueName,
              connectTimeoutMs: config.connectTimeoutMs,
              signal: controller.signal,
            },
            options.deadLetters === true ? "dead-letters" : "status",
            json,
          );
        } finally {
          stopHandlingSignals();
        }
        return;
      }
      await runWorker(config, json);
    });
}

async function printQueueState(location: QueueLocation, what: "dead-letters" | "status", json: boolean) {
  const { listDeadLetters, queueStatus } = await import("../../queue/index.js");
  if (what === "dead-letters") {
    const deadLetters = await listDeadLetters(location);
    if (json) process.stdout.write(`${JSON.stringify(deadLetters)}\n`);
    else if (deadLetters.length === 0) process.stdout.write(`no dead letters in ${location.queueName}\n`);
    else {
      for (const letter of deadLetters) {
        const where = letter.source === null ? "" : ` (${letter.source.file}:${letter.source.index})`;
        process.stdout.write(
          `${letter.failedAt}  ${letter.category ?? "?"}/${letter.documentId ?? letter.jobId}${where}  after ${letter.attemptsMade} attempt(s): ${letter.reason}\n`,
        );
      }
    }
    return;
  }
  const status = await queueStatus(location);
  process.stdout.write(
    json
      ? `${JSON.stringify(status)}\n`
      : `${Object.entries(status)
          .map(([key, value]) => `${key}: ${value}`)
          .join("\n")}\n`,
  );
}
