/**
 * `llm-twin ingest <path>`: the feature pipeline's composition root. Options come from flags, then
 * LLM_TWIN_* variables, then defaults, validated once with zod; the embedder and store are built
 * here and passed down. Progress and the summary go to stderr; `--json` puts exactly one JSON
 * object on stdout.
 */
import { type Command, Option } from "commander";
import { z } from "zod";
import { DEFAULT_EMBEDDER_SPEC, parseEmbedderSpec } from "../../embedding/create.js";
import { AppError, isAppError } from "../../errors/index.js";
import { DEFAULT_MAX_DOCUMENT_BYTES, DEFAULT_MAX_FILE_BYTES } from "../../ingestion/readers/types.js";
import { DEFAULT_INGEST_BATCH_SIZE, DEFAULT_INGEST_CONCURRENCY } from "../../ingestion/types.js";
import { createProgress, type Progress } from "../../observability/progress.js";
import { DEFAULT_QUEUE_CONNECT_TIMEOUT_MS } from "../../queue/config.js";
import type { EnqueueProgress, EnqueueSummary } from "../../queue/index.js";
import { handleShutdownSignals, withResources } from "../../runtime/index.js";
import { DEFAULT_STORE_URI } from "../../vector-store/uri.js";
import { positive } from "../flag-schemas.js";
import { createIngestProgress, reportTo } from "./ingest-progress.js";

export const DEFAULT_ARTIFACTS_DIR = "./.llm-twin/artifacts";
/** Inputs up to this size are counted first so the progress bar has a total and an ETA. */
export const DEFAULT_COUNT_LIMIT_BYTES = 64 * 1024 * 1024;

const booleanFromEnv = z
  .string()
  .trim()
  .toLowerCase()
  .refine((value) => ["", "0", "1", "true", "false", "yes", "no"].includes(value), "expected 1/0, true/false or yes/no")
  .transform((value) => ["1", "true", "yes"].includes(value));

const configSchema = z.object({
  store: z.string().trim().min(1, "--store / LLM_TWIN_STORE must not be empty"),
  embedder: z.string().trim().min(1, "--embedder / LLM_TWIN_EMBEDDER must not be empty"),
  recreate: z.boolean(),
  prune: z.boolean(),
  json: z.boolean(),
  artifacts: z.union([z.string().trim().min(1), z.literal(false)]),
  batchSize: positive("--batch-size / LLM_TWIN_INGEST_BATCH_SIZE"),
  concurrency: positive("--concurrency / LLM_TWIN_INGEST_CONCURRENCY"),
  maxInputTokens: positive("--max-input-tokens / LLM_TWIN_EMBEDDER_MAX_INPUT_TOKENS").optional(),
  threads: positive("--threads / LLM_TWIN_THREADS").optional(),
  cacheDir: z.string().trim().min(1).optional(),
  maxDocumentBytes: positive("--max-document-bytes / LLM_TWIN_MAX_DOCUMENT_BYTES"),
  maxFileBytes: positive("--max-file-bytes / LLM_TWIN_MAX_FILE_BYTES"),
  countLimitBytes: z.coerce
    .number()
    .int()
    .min(0, "--count-limit-bytes / LLM_TWIN_INGEST_COUNT_LIMIT_BYTES must be >= 0"),
  progress: z.enum(["auto", "tty", "plain", "none"], {
    error: "--progress / LLM_TWIN_PROGRESS must be auto, tty, plain or none",
  }),
  progressIntervalMs: positive("--progress-interval / LLM_TWIN_PROGRESS_INTERVAL_MS"),
  queue: z.string().trim().min(1).optional(),
  queueConnectTimeoutMs: positive("--queue-connect-timeout-ms / LLM_TWIN_QUEUE_CONNECT_TIMEOUT_MS"),
});

export type IngestCommandConfig = z.infer<typeof configSchema>;

type RawOptions = Record<string, unknown>;

export function registerIngestCommand(program: Command): void {
  program
    .command("ingest")
    .description(
      "Read raw documents (a JSON array, JSON Lines, or a folder of such files), clean, chunk, embed and upsert them into the vector store, and write a dataset artifact",
    )
    .argument("<path>", "file or folder of raw documents (articles, posts, repositories)")
    .addOption(
      new Option("--store <uri>", "vector store: lancedb:<dir> or qdrant:<http url>")
        .env("LLM_TWIN_STORE")
        .default(DEFAULT_STORE_URI),
    )
    .addOption(
      new Option(
        "--embedder <spec>",
        'embedder: "auto" (the default GGUF model, downloaded once; static where it cannot be), "static", "gguf:<path | url | hf:user/repo:quant>" or "openai:<base-url>[#model]" (HTTP; key in LLM_TWIN_EMBEDDER_API_KEY)',
      )
        .env("LLM_TWIN_EMBEDDER")
        .default(DEFAULT_EMBEDDER_SPEC),
    )
    .addOption(
      new Option(
        "--recreate",
        "rebuild the store beside the live one and switch to it at the end (required to change embedder or preprocessing) [env: LLM_TWIN_RECREATE]",
      ),
    )
    .addOption(
      new Option(
        "--prune",
        "delete the documents this input put in the store earlier and no longer holds (other inputs' documents are kept) [env: LLM_TWIN_PRUNE]",
      ),
    )
    .addOption(new Option("--json", "print the summary as one JSON object on stdout [env: LLM_TWIN_JSON]"))
    .addOption(
      new Option("--artifacts <dir>", "where versioned dataset artifacts are written")
        .env("LLM_TWIN_ARTIFACTS_DIR")
        .default(DEFAULT_ARTIFACTS_DIR),
    )
    .addOption(new Option("--no-artifacts", "write no dataset artifact"))
    .addOption(
      new Option("--batch-size <n>", "chunks per embed + upsert window")
        .env("LLM_TWIN_INGEST_BATCH_SIZE")
        .default(String(DEFAULT_INGEST_BATCH_SIZE)),
    )
    .addOption(
      new Option("--concurrency <n>", "windows being written while the next ones are embedded")
        .env("LLM_TWIN_INGEST_CONCURRENCY")
        .default(String(DEFAULT_INGEST_CONCURRENCY)),
    )
    .addOption(
      new Option(
        "--max-input-tokens <n>",
        "embedder's maximum input in tokens (default: static 512, GGUF the model's)",
      ).env("LLM_TWIN_EMBEDDER_MAX_INPUT_TOKENS"),
    )
    .addOption(
      new Option("--threads <n>", "llama.cpp threads for GGUF embedders (default: cores available)").env(
        "LLM_TWIN_THREADS",
      ),
    )
    .addOption(
      new Option("--cache-dir <dir>", "cache for word vectors and models (default ~/.cache/llm-twin)").env(
        "LLM_TWIN_CACHE_DIR",
      ),
    )
    .addOption(
      new Option("--max-document-bytes <n>", "records larger than this are skipped")
        .env("LLM_TWIN_MAX_DOCUMENT_BYTES")
        .default(String(DEFAULT_MAX_DOCUMENT_BYTES)),
    )
    .addOption(
      new Option("--max-file-bytes <n>", "input files larger than this are skipped")
        .env("LLM_TWIN_MAX_FILE_BYTES")
        .default(String(DEFAULT_MAX_FILE_BYTES)),
    )
    .addOption(
      new Option("--count-limit-bytes <n>", "count documents first (for the ETA) when the input is at most this big")
        .env("LLM_TWIN_INGEST_COUNT_LIMIT_BYTES")
        .default(String(DEFAULT_COUNT_LIMIT_BYTES)),
    )
    .addOption(
      new Option("--progress <mode>", "progress display: auto (bar on a TTY, plain lines otherwise), tty, plain, none")
        .env("LLM_TWIN_PROGRESS")
        .default("auto"),
    )
    .addOption(
      new Option("--progress-interval <ms>", "milliseconds between plain progress lines")
        .env("LLM_TWIN_PROGRESS_INTERVAL_MS")
        .default("2000"),
    )
    .addOption(
      new Option("--queue <redis-url>", "enqueue into BullMQ for `llm-twin worker` instead of ingesting here").env(
        "LLM_TWIN_QUEUE_URL",
      ),
    )
    .addOption(
      new Option("--queue-connect-timeout-ms <ms>", "with --queue: give up when Redis does not answer within this time")
        .env("LLM_TWIN_QUEUE_CONNECT_TIMEOUT_MS")
        .default(String(DEFAULT_QUEUE_CONNECT_TIMEOUT_MS)),
    )
    .action(async (path: string, options: RawOptions) => {
      await runIngestCommand(path, parseIngestConfig(options, process.env));
    });
}

export function parseIngestConfig(options: RawOptions, environment: NodeJS.ProcessEnv): IngestCommandConfig {
  const flag = (name: string, variable: string): boolean => {
    if (options[name] === true) return true;
    const fromEnv = environment[variable];
    if (fromEnv === undefined) return false;
    const parsed = booleanFromEnv.safeParse(fromEnv);
    if (!parsed.success)
      throw new AppError("configuration_error", `${variable}: expected 1/0, true/false or yes/no (got "${fromEnv}")`);
    return parsed.data;
  };
  const result = configSchema.safeParse({
    store: options.store,
    embedder: options.embedder,
    recreate: flag("recreate", "LLM_TWIN_RECREATE"),
    prune: flag("prune", "LLM_TWIN_PRUNE"),
    json: flag("json", "LLM_TWIN_JSON"),
    artifacts: options.artifacts,
    batchSize: options.batchSize,
    concurrency: options.concurrency,
    maxInputTokens: options.maxInputTokens,
    threads: options.threads,
    cacheDir: options.cacheDir,
    maxDocumentBytes: options.maxDocumentBytes,
    maxFileBytes: options.maxFileBytes,
    countLimitBytes: options.countLimitBytes,
    progress: options.progress,
    progressIntervalMs: options.progressInterval,
    queue: options.queue,
    queueConnectTimeoutMs: options.queueConnectTimeoutMs,
  });
  if (!result.success) {
    const message = result.error.issues
      .map((issue) => `${issue.path.join(".") || "option"}: ${issue.message}`)
      .join("; ");
    throw new AppError("configuration_error", `invalid ingest options: ${message}`);
  }
  if (result.data.prune && result.data.queue !== undefined)
    throw new AppError(
      "configuration_error",
      "--prune works in a single-process ingest only: run it without --queue (or unset LLM_TWIN_QUEUE_URL)",
    );
  return result.data;
}

export async function runIngestCommand(path: string, config: IngestCommandConfig): Promise<void> {
  try {
    const { formatIngestSummary } = await import("../../ingestion/index.js");
    const summary =
      config.queue === undefined ? await ingestHere(path, config) : await ingestThroughQueue(path, config);
    if (config.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
    else if ("queue" in summary) process.stderr.write(formatEnqueueSummary(summary));
    else process.stderr.write(formatIngestSummary(summary));
  } catch (error) {
    if (config.json) {
      const code = isAppError(error) ? error.code : "internal_error";
      const message = error instanceof Error ? error.message : String(error);
      process.stdout.write(`${JSON.stringify({ error: { code, message } })}\n`);
    }
    throw error;
  }
}

/** With --embedder auto, a store keeps the embedder it was built with (see embedding/default-model.ts). */
async function readStoreEmbedderId(storeUri: string, embedderSpec: string): Promise<string | undefined> {
  if (parseEmbedderSpec(embedderSpec).kind !== "auto") return undefined;
  const { openVectorStore } = await import("../../vector-store/index.js");
  const store = await openVectorStore(storeUri);
  try {
    return (await store.readMetadata())?.fingerprint.embedder.id;
  } finally {
    await store[Symbol.asyncDispose]();
  }
}

async function ingestHere(path: string, config: IngestCommandConfig) {
  // Loaded here, not at the top: `--help` must not pay for the pipeline, LanceDB and llama.cpp.
  const [
    { createEmbedder },
    { countInputDocuments, ingest, requireReadableDocuments },
    { describeSources, readRawDocuments },
    { openVectorStore },
  ] = await Promise.all([
    import("../../embedding/index.js"),
    import("../../ingestion/index.js"),
    import("../../ingestion/readers/index.js"),
    import("../../vector-store/index.js"),
  ]);
  // Everything the run opens is released through one stack (src/runtime), newest first, also when
  // it fails half-way.
  return withResources(async (resources) => {
    const controller = new AbortController();
    // Ctrl-C stops reading and lets the windows in flight finish; again exits at once (src/runtime).
    resources.defer(
      "signal handlers",
      handleShutdownSignals({
        name: "llm-twin ingest",
        exitWhenDone: false,
        shutdown: () => controller.abort(new AppError("aborted", "interrupted")),
      }),
    );
    // The input is checked before anything is loaded or created (a missing path leaves no store behind).
    const readOptions = { maxDocumentBytes: config.maxDocumentBytes, maxFileBytes: config.maxFileBytes };
    const sourceFiles = await describeSources(path);
    const documents = await requireReadableDocuments(readRawDocuments(path, readOptions), path);
    const storeEmbedderId = config.recreate ? undefined : await readStoreEmbedderId(config.store, config.embedder);
    const embedder = resources.use(
      "embedder",
      await createEmbedder(config.embedder, {
        ...(config.cacheDir === undefined ? {} : { cacheDir: config.cacheDir }),
        ...(config.maxInputTokens === undefined ? {} : { maxInputTokens: config.maxInputTokens }),
        ...(config.threads === undefined ? {} : { threads: config.threads }),
        ...(storeEmbedderId === undefined ? {} : { storeEmbedderId }),
      }),
    );
    const store = resources.use("store", await openVectorStore(config.store));
    let progress: Progress | undefined;
    try {
      const totalBytes = sourceFiles.reduce((sum, file) => sum + file.bytes, 0);
      const documentsTotal = totalBytes <= config.countLimitBytes ? await countInputDocuments(path) : undefined;
      progress = createIngestProgress(config, documentsTotal);
      const summary = await ingest({
        source: path,
        documents,
        sourceFiles,
        ...(documentsTotal === undefined ? {} : { documentsTotal }),
        store,
        embedder,
        recreate: config.recreate,
        prune: config.prune,
        ...(config.artifacts === false ? {} : { artifactsDir: config.artifacts }),
        batchSize: config.batchSize,
        concurrency: config.concurrency,
        signal: controller.signal,
        ...(progress === undefined ? {} : { onProgress: reportTo(progress) }),
      });
      progress?.finish();
      return summary;
    } catch (error) {
      progress?.finish();
      throw error;
    }
  });
}

/** `--queue`: documents become BullMQ jobs for `llm-twin worker` (bullmq is only loaded here). */
async function ingestThroughQueue(path: string, config: IngestCommandConfig): Promise<EnqueueSummary> {
  const { enqueueIngestion } = await import("../../queue/index.js");
  const controller = new AbortController();
  // Ctrl-C stops reading and lets the windows in flight finish; again exits at once (src/runtime).
  const stopHandlingSignals = handleShutdownSignals({
    name: "llm-twin ingest",
    exitWhenDone: false,
    shutdown: () => controller.abort(new AppError("aborted", "interrupted")),
  });
  const progress =
    config.progress === "none"
      ? undefined
      : createProgress({
          label: "enqueue",
          unit: "documents",
          isTTY: config.progress === "auto" ? process.stderr.isTTY === true : config.progress === "tty",
          intervalMs: config.progressIntervalMs,
        });
  try {
    const summary = await enqueueIngestion({
      queueUrl: config.queue as string,
      source: path,
      storeUri: config.store,
      embedderSpec: config.embedder,
      recreate: config.recreate,
      connectTimeoutMs: config.queueConnectTimeoutMs,
      readOptions: { maxDocumentBytes: config.maxDocumentBytes, maxFileBytes: config.maxFileBytes },
      ...(config.cacheDir === undefined ? {} : { cacheDir: config.cacheDir }),
      signal: controller.signal,
      onProgress: (update: EnqueueProgress) =>
        progress?.update({
          completed: update.documentsRead + update.documentsSkipped,
          counters: { enqueued: update.jobsEnqueued, "already queued": update.jobsAlreadyQueued },
        }),
    });
    progress?.finish();
    return summary;
  } catch (error) {
    progress?.finish();
    throw error;
  } finally {
    stopHandlingSignals();
  }
}

export function formatEnqueueSummary(summary: EnqueueSummary): string {
  const rows: [string, string][] = [
    ["queue", summary.queue],
    ["source", summary.source],
    ["store", summary.store],
    ["embedder", summary.embedder],
    ["documents read", String(summary.documentsRead)],
    ["documents skipped", String(summary.documentsSkipped.length)],
    ["jobs enqueued", String(summary.jobsEnqueued)],
    ["jobs already queued", String(summary.jobsAlreadyQueued)],
    ["jobs requeued", String(summary.jobsRequeued)],
    ["time", `${(summary.durationMs / 1000).toFixed(2)} s`],
  ];
  const width = Math.max(...rows.map(([label]) => label.length));
  const lines = rows.map(([label, value]) => `  ${label.padEnd(width)}  ${value}`);
  for (const skipped of summary.documentsSkipped.slice(0, 20))
    lines.push(`    ${skipped.file}[${skipped.index}]: ${skipped.reason}`);
  return `enqueue summary (run 'llm-twin worker' to process the jobs)\n${lines.join("\n")}\n`;
}
