/**
 * `llm-twin worker`: processes the ingestion jobs that `llm-twin ingest --queue` enqueued
 * (src/queue). Also lists dead letters (`--dead-letters`) and job counts (`--status`).
 */
import type { Command } from "commander";
import { z } from "zod";
import {
  jsonOutputSetting,
  parseSettingValues,
  type Setting,
  type SettingsValues,
  schemas,
  valuesFromOptions,
} from "../../config/settings.js";
import { HTTP_EMBEDDER_SETTINGS, httpEmbedderOptions } from "../../embedding/http/settings.js";
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
import { addSettingOptions } from "../settings-options.js";

export const DEFAULT_SHUTDOWN_TIMEOUT_MS = 60_000;
/** After "worker: stopped", how long leftover connections may keep the process alive. */
const LINGER_AFTER_STOP_MS = 2_000;

type RawOptions = Record<string, unknown>;

const { positiveInteger, text } = schemas;
const off = z.boolean().default(false);

/** `worker`'s settings (src/config/settings.ts); `key` is the name in the worker's configuration. */
export const WORKER_SETTINGS = [
  {
    key: "queueUrl",
    flag: "--queue <url>",
    env: "LLM_TWIN_QUEUE_URL",
    schema: z.string({ error: "required: the redis:// URL of the queue" }).trim().min(1, "must not be empty"),
    required: true,
    help: "redis:// URL of the BullMQ queue",
  },
  {
    key: "queueName",
    flag: "--queue-name <name>",
    env: "LLM_TWIN_QUEUE_NAME",
    schema: text,
    default: DEFAULT_QUEUE_NAME,
    help: "queue name",
  },
  {
    key: "concurrency",
    flag: "--concurrency <n>",
    env: "LLM_TWIN_WORKER_CONCURRENCY",
    schema: positiveInteger,
    default: String(DEFAULT_WORKER_CONCURRENCY),
    help: "jobs processed at once by this process",
  },
  {
    key: "store",
    flag: "--store <uri>",
    env: "LLM_TWIN_STORE",
    schema: text.optional(),
    defaultText: "each job's store",
    help: "only serve this store, checking its fingerprint at start",
  },
  {
    key: "embedder",
    flag: "--embedder <spec>",
    env: "LLM_TWIN_EMBEDDER",
    schema: text.optional(),
    defaultText: "each job's embedder",
    help: "embedder spec",
  },
  ...HTTP_EMBEDDER_SETTINGS,
  {
    key: "lockDurationMs",
    flag: "--lock-duration-ms <ms>",
    env: "LLM_TWIN_WORKER_LOCK_DURATION_MS",
    schema: positiveInteger,
    default: String(DEFAULT_LOCK_DURATION_MS),
    help: "job lock; a killed worker's job is retried after it",
  },
  {
    key: "stalledIntervalMs",
    flag: "--stalled-interval-ms <ms>",
    env: "LLM_TWIN_WORKER_STALLED_INTERVAL_MS",
    schema: positiveInteger,
    default: String(DEFAULT_STALLED_INTERVAL_MS),
    help: "how often stalled jobs are looked for",
  },
  {
    key: "maxStalledCount",
    flag: "--max-stalled-count <n>",
    env: "LLM_TWIN_WORKER_MAX_STALLED_COUNT",
    schema: positiveInteger,
    default: String(DEFAULT_MAX_STALLED_COUNT),
    help: "stalls allowed before a job fails",
  },
  {
    key: "shutdownTimeoutMs",
    flag: "--shutdown-timeout-ms <ms>",
    env: "LLM_TWIN_WORKER_SHUTDOWN_TIMEOUT_MS",
    schema: positiveInteger,
    default: String(DEFAULT_SHUTDOWN_TIMEOUT_MS),
    help: "on SIGTERM, wait this long for running jobs",
  },
  {
    key: "optimizeIntervalMs",
    flag: "--optimize-interval-ms <ms>",
    env: "LLM_TWIN_WORKER_OPTIMIZE_INTERVAL_MS",
    schema: positiveInteger,
    default: String(DEFAULT_OPTIMIZE_INTERVAL_MS),
    help: "while jobs keep coming, rebuild changed stores' indexes at most this often; also when the queue drains",
  },
  {
    key: "connectTimeoutMs",
    flag: "--queue-connect-timeout-ms <ms>",
    env: QUEUE_CONNECT_TIMEOUT_VARIABLE,
    schema: positiveInteger,
    default: String(DEFAULT_QUEUE_CONNECT_TIMEOUT_MS),
    help: "give up when Redis does not answer within this time",
  },
  {
    key: "cacheDir",
    flag: "--cache-dir <dir>",
    env: "LLM_TWIN_CACHE_DIR",
    schema: text.optional(),
    defaultText: "~/.cache/llm-twin",
    help: "cache for word vectors and models of the jobs' embedders",
  },
  {
    key: "deadLetters",
    flag: "--dead-letters",
    env: "LLM_TWIN_WORKER_DEAD_LETTERS",
    schema: off,
    defaultText: "false",
    help: "list the jobs that failed for good, with their reasons, and exit",
  },
  {
    key: "status",
    flag: "--status",
    env: "LLM_TWIN_WORKER_STATUS",
    schema: off,
    defaultText: "false",
    help: "print the queue's job counts and exit",
  },
  jsonOutputSetting("machine-readable output (one JSON object, or JSON lines while working)"),
] as const satisfies readonly Setting[];

type WorkerConfig = SettingsValues<typeof WORKER_SETTINGS>;

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
      embedderHttp: httpEmbedderOptions(config),
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
  const command = program
    .command("worker")
    .description(
      "Process queued ingestion jobs (enqueued by `llm-twin ingest --queue`); several workers may run in parallel",
    );
  addSettingOptions(command, WORKER_SETTINGS).action(async (options: RawOptions) => {
    const config = parseSettingValues(WORKER_SETTINGS, valuesFromOptions(WORKER_SETTINGS, options));
    const { json } = config;
    if (config.deadLetters || config.status) {
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
          config.deadLetters ? "dead-letters" : "status",
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
