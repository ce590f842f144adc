/** `ingest`'s settings in the configuration registry (src/config/settings.ts) and their parsing. */
import { z } from "zod";
import {
  jsonOutputSetting,
  parseSettingValues,
  type Setting,
  type SettingsValues,
  schemas,
  valuesFromOptions,
} from "../../config/settings.js";
import { DEFAULT_EMBEDDER_SPEC } from "../../embedding/create.js";
import { HTTP_EMBEDDER_SETTINGS } from "../../embedding/http/settings.js";
import { AppError } from "../../errors/index.js";
import { DEFAULT_MAX_DOCUMENT_BYTES, DEFAULT_MAX_FILE_BYTES } from "../../ingestion/readers/types.js";
import { DEFAULT_INGEST_BATCH_SIZE, DEFAULT_INGEST_CONCURRENCY } from "../../ingestion/types.js";
import {
  DEFAULT_ATTEMPTS,
  DEFAULT_BACKOFF_MS,
  DEFAULT_QUEUE_CONNECT_TIMEOUT_MS,
  DEFAULT_QUEUE_NAME,
} from "../../queue/config.js";
import { VECTOR_STORE_SETTINGS } from "../../vector-store/settings.js";
import { DEFAULT_STORE_URI } from "../../vector-store/uri.js";

export const DEFAULT_ARTIFACTS_DIR = "./.llm-twin/artifacts";
/** Inputs up to this size are counted first so the progress bar has a total and an ETA. */
export const DEFAULT_COUNT_LIMIT_BYTES = 64 * 1024 * 1024;

const { positiveInteger, text } = schemas;
const off = z.boolean().default(false);

export const INGEST_SETTINGS = [
  {
    key: "store",
    flag: "--store <uri>",
    env: "LLM_TWIN_STORE",
    schema: text,
    default: DEFAULT_STORE_URI,
    help: "vector store: lancedb:<dir> or qdrant:<http(s) url> (limits: the --lancedb-* and --qdrant-* settings below, docs/vector-stores.md)",
  },
  {
    key: "embedder",
    flag: "--embedder <spec>",
    env: "LLM_TWIN_EMBEDDER",
    schema: text,
    default: DEFAULT_EMBEDDER_SPEC,
    help: 'embedder: "auto" (the default GGUF model, downloaded once; static where it cannot be), "static", "gguf:<path | url | hf:user/repo:quant>" or "openai:<base-url>[#model]" (HTTP; key in LLM_TWIN_EMBEDDER_API_KEY)',
  },
  ...HTTP_EMBEDDER_SETTINGS,
  {
    key: "recreate",
    flag: "--recreate",
    env: "LLM_TWIN_RECREATE",
    schema: off,
    defaultText: "false",
    help: "rebuild every collection beside the live ones and switch to them at the end (required to change embedder or preprocessing)",
  },
  {
    key: "prune",
    flag: "--prune",
    env: "LLM_TWIN_PRUNE",
    schema: off,
    defaultText: "false",
    help: "delete the documents this input put in the store earlier and no longer holds (other inputs' documents are kept); not with --queue",
  },
  jsonOutputSetting("print the summary as one JSON object on stdout"),
  {
    key: "artifacts",
    flag: "--artifacts <dir>",
    env: "LLM_TWIN_ARTIFACTS_DIR",
    schema: z.union([text, z.literal(false)]),
    default: DEFAULT_ARTIFACTS_DIR,
    negatable: "write no dataset artifact",
    help: "where versioned dataset artifacts are written",
  },
  {
    key: "batchSize",
    flag: "--batch-size <n>",
    env: "LLM_TWIN_INGEST_BATCH_SIZE",
    schema: positiveInteger,
    default: String(DEFAULT_INGEST_BATCH_SIZE),
    help: "chunks per window (diff, embed, upsert)",
  },
  {
    key: "concurrency",
    flag: "--concurrency <n>",
    env: "LLM_TWIN_INGEST_CONCURRENCY",
    schema: positiveInteger,
    default: String(DEFAULT_INGEST_CONCURRENCY),
    help: "windows being written while the next ones are embedded",
  },
  {
    key: "maxInputTokens",
    flag: "--max-input-tokens <n>",
    env: "LLM_TWIN_EMBEDDER_MAX_INPUT_TOKENS",
    schema: positiveInteger.optional(),
    defaultText: "static: 512; GGUF: context size − 1",
    help: "the embedder's input limit; chunks are cut to fit it (part of the fingerprint)",
  },
  {
    key: "threads",
    flag: "--threads <n>",
    env: "LLM_TWIN_THREADS",
    schema: positiveInteger.optional(),
    defaultText: "cores available",
    help: "llama.cpp threads for GGUF embedders",
  },
  {
    key: "cacheDir",
    flag: "--cache-dir <dir>",
    env: "LLM_TWIN_CACHE_DIR",
    schema: text.optional(),
    defaultText: "~/.cache/llm-twin",
    help: "cache for word vectors and models",
  },
  {
    key: "maxDocumentBytes",
    flag: "--max-document-bytes <n>",
    env: "LLM_TWIN_MAX_DOCUMENT_BYTES",
    schema: positiveInteger,
    default: String(DEFAULT_MAX_DOCUMENT_BYTES),
    help: "larger records are skipped with a reason",
  },
  {
    key: "maxFileBytes",
    flag: "--max-file-bytes <n>",
    env: "LLM_TWIN_MAX_FILE_BYTES",
    schema: positiveInteger,
    default: String(DEFAULT_MAX_FILE_BYTES),
    help: "larger input files are skipped with a reason",
  },
  {
    key: "countLimitBytes",
    flag: "--count-limit-bytes <n>",
    env: "LLM_TWIN_INGEST_COUNT_LIMIT_BYTES",
    schema: z.coerce.number({ error: "must be a number" }).int("must be an integer").min(0, "must be >= 0"),
    default: String(DEFAULT_COUNT_LIMIT_BYTES),
    help: "count documents first (for the ETA) when the input is at most this big",
  },
  {
    key: "progress",
    flag: "--progress <mode>",
    env: "LLM_TWIN_PROGRESS",
    schema: z.enum(["auto", "tty", "plain", "none"], { error: "must be auto, tty, plain or none" }),
    default: "auto",
    help: "progress display: auto (bar on a TTY, plain lines otherwise), tty, plain, none",
  },
  {
    key: "progressIntervalMs",
    flag: "--progress-interval <ms>",
    env: "LLM_TWIN_PROGRESS_INTERVAL_MS",
    schema: positiveInteger,
    default: "2000",
    help: "milliseconds between plain progress lines",
  },
  {
    key: "queue",
    flag: "--queue <redis-url>",
    env: "LLM_TWIN_QUEUE_URL",
    schema: text.optional(),
    help: "enqueue into BullMQ for `llm-twin worker` instead of ingesting here",
  },
  {
    key: "queueConnectTimeoutMs",
    flag: "--queue-connect-timeout-ms <ms>",
    env: "LLM_TWIN_QUEUE_CONNECT_TIMEOUT_MS",
    schema: positiveInteger,
    default: String(DEFAULT_QUEUE_CONNECT_TIMEOUT_MS),
    help: "with --queue: exit with dependency_unavailable when Redis does not answer within it (checked before the store is touched)",
  },
  {
    key: "queueName",
    flag: "--queue-name <name>",
    env: "LLM_TWIN_QUEUE_NAME",
    schema: text,
    default: DEFAULT_QUEUE_NAME,
    help: "with --queue: the BullMQ queue (the workers' --queue-name)",
  },
  {
    key: "queueAttempts",
    flag: "--queue-attempts <n>",
    env: "LLM_TWIN_QUEUE_ATTEMPTS",
    schema: positiveInteger,
    default: String(DEFAULT_ATTEMPTS),
    help: "with --queue: attempts per job before the dead-letter queue",
  },
  {
    key: "queueBackoffMs",
    flag: "--queue-backoff-ms <ms>",
    env: "LLM_TWIN_QUEUE_BACKOFF_MS",
    schema: positiveInteger,
    default: String(DEFAULT_BACKOFF_MS),
    help: "with --queue: first retry delay of a failed job, doubling",
  },
  ...VECTOR_STORE_SETTINGS,
] as const satisfies readonly Setting[];

export type IngestCommandConfig = SettingsValues<typeof INGEST_SETTINGS>;

/** The validated configuration from commander's parsed options (flags over variables over defaults). */
export function parseIngestConfig(options: Record<string, unknown>): IngestCommandConfig {
  const config = parseSettingValues(INGEST_SETTINGS, valuesFromOptions(INGEST_SETTINGS, options));
  if (config.prune && config.queue !== undefined)
    throw new AppError(
      "configuration_error",
      "--prune works in a single-process ingest only: run it without --queue (or unset LLM_TWIN_QUEUE_URL)",
    );
  return config;
}
