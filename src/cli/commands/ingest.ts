/**
 * `llm-twin ingest <path>`: the feature pipeline's composition root. Options come from flags, then
 * LLM_TWIN_* variables, then defaults (the registry entries of ./ingest-settings.ts), validated once
 * with zod; the embedder and store are built
 * here and passed down. Progress and the summary go to stderr; `--json` puts exactly one JSON
 * object on stdout.
 */
import type { Command } from "commander";
import { parseEmbedderSpec } from "../../embedding/create.js";
import { httpEmbedderOptions } from "../../embedding/http/settings.js";
import { AppError, isAppError } from "../../errors/index.js";
import { createProgress, type Progress } from "../../observability/progress.js";
import type { EnqueueProgress, EnqueueSummary } from "../../queue/index.js";
import { handleShutdownSignals, withResources } from "../../runtime/index.js";
import { vectorStoreOptions } from "../../vector-store/settings.js";
import { addSettingOptions } from "../settings-options.js";
import { createIngestProgress, reportTo } from "./ingest-progress.js";
import { INGEST_SETTINGS, type IngestCommandConfig, parseIngestConfig } from "./ingest-settings.js";

export {
  DEFAULT_ARTIFACTS_DIR,
  DEFAULT_COUNT_LIMIT_BYTES,
  INGEST_SETTINGS,
  type IngestCommandConfig,
  parseIngestConfig,
} from "./ingest-settings.js";

type RawOptions = Record<string, unknown>;

export function registerIngestCommand(program: Command): void {
  const command = program
    .command("ingest")
    .description(
      "Read raw documents (a JSON array, JSON Lines, or a folder of such files), clean, chunk, embed and upsert them into the vector store, and write a dataset artifact",
    )
    .argument("<path>", "file or folder of raw documents (articles, posts, repositories)");
  addSettingOptions(command, INGEST_SETTINGS).action(async (path: string, options: RawOptions) => {
    await runIngestCommand(path, parseIngestConfig(options));
  });
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
    const openStore = async () =>
      resources.use("store", await openVectorStore(config.store, vectorStoreOptions(config)));
    // With --embedder auto, a store keeps the embedder it was built with (see embedding/default-model.ts):
    // the store is then opened first, once, to read it.
    const keepsEmbedder = !config.recreate && parseEmbedderSpec(config.embedder).kind === "auto";
    const opened = keepsEmbedder ? await openStore() : undefined;
    const storeEmbedderId = (await opened?.readMetadata())?.fingerprint.embedder.id;
    const embedder = resources.use(
      "embedder",
      await createEmbedder(config.embedder, {
        ...(config.cacheDir === undefined ? {} : { cacheDir: config.cacheDir }),
        ...(config.maxInputTokens === undefined ? {} : { maxInputTokens: config.maxInputTokens }),
        ...(config.threads === undefined ? {} : { threads: config.threads }),
        ...(storeEmbedderId === undefined ? {} : { storeEmbedderId }),
        http: httpEmbedderOptions(config),
      }),
    );
    const store = opened ?? (await openStore());
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
      embedderHttp: httpEmbedderOptions(config),
      recreate: config.recreate,
      connectTimeoutMs: config.queueConnectTimeoutMs,
      queueName: config.queueName,
      attempts: config.queueAttempts,
      backoffMs: config.queueBackoffMs,
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
