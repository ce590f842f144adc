/** `llm-twin dataset instruct|preferences`: training datasets written as versioned dataset artifacts. */
import { existsSync } from "node:fs";
import type { Command } from "commander";
import { AppError } from "../../errors/index.js";
import { handleShutdownSignals } from "../../runtime/index.js";
import { addSettingOptions } from "../settings-options.js";
import {
  INSTRUCT_SETTINGS,
  PREFERENCES_SETTINGS,
  parseInstructConfig,
  parsePreferencesConfig,
} from "./dataset-settings.js";

export { INSTRUCT_SETTINGS, PREFERENCES_SETTINGS, parseInstructConfig } from "./dataset-settings.js";

export function registerDatasetCommand(program: Command): void {
  const dataset = program
    .command("dataset")
    .description("Training datasets (instruct, preferences) as versioned dataset artifacts");
  addSettingOptions(dataset.command("instruct"), INSTRUCT_SETTINGS)
    .description("instruction/answer pairs from a document artifact's chunks, instructions written by an LLM")
    .action(async (raw: Record<string, unknown>) => {
      const config = parseInstructConfig(raw);
      const { createInstructionWriter, generateInstructDataset } = await import("../../datasets/index.js");
      const filters = {
        minInstructionChars: config.minInstructionChars,
        maxInstructionChars: config.maxInstructionChars,
        minOutputChars: config.minOutputChars,
        nearDuplicateThreshold: config.nearDuplicateThreshold,
        testFraction: config.testFraction,
      };
      const writer = createInstructionWriter({
        url: config.llmUrl,
        model: config.llmModel,
        timeoutMs: config.timeout,
        retries: config.retries,
        instructionChars: { min: config.minInstructionChars, max: config.maxInstructionChars },
        ...(config.maxTokens === undefined ? {} : { maxTokens: config.maxTokens }),
        ...(config.apiKey === undefined ? {} : { apiKey: config.apiKey }),
      });
      const controller = new AbortController();
      // The one signal path (src/runtime): Ctrl-C or SIGTERM stops the run (finished chunks are
      // kept for the next one); a second signal exits at once.
      const stopHandlingSignals = handleShutdownSignals({
        name: "llm-twin dataset instruct",
        exitWhenDone: false,
        shutdown: () => controller.abort(new AppError("aborted", "interrupted")),
      });
      let lastLine = 0;
      try {
        const result = await generateInstructDataset({
          artifactsDirectory: config.artifacts,
          from: config.fromArtifact,
          writer,
          perChunk: config.perChunk,
          concurrency: config.concurrency,
          filters,
          signal: controller.signal,
          onProgress: ({ done, total, skipped, pairs }) => {
            if (!config.progress) return;
            const now = Date.now();
            if (done !== total && now - lastLine < 1000) return;
            lastLine = now;
            process.stderr.write(
              `instruct: ${done}/${total} chunks (${skipped} from a previous run), ${pairs} instructions\n`,
            );
          },
        });
        const summary = {
          version: result.manifest.version,
          path: result.path,
          created: result.created,
          parent: result.manifest.parent,
          counts: result.manifest.counts,
          chunks: result.chunks,
          resumedChunks: result.resumedChunks,
          writerCalls: result.writerCalls,
          seconds: Number(result.seconds.toFixed(3)),
          pairsPerSecond: Number(((result.manifest.counts.generated ?? 0) / Math.max(result.seconds, 1e-9)).toFixed(2)),
        };
        if (config.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
        else
          process.stdout.write(
            `instruct dataset ${summary.version} (${result.created ? "new" : "unchanged"}) in ${summary.path}\n` +
              `  from document artifact ${summary.parent}: ${summary.chunks} chunks, ${summary.counts.generated} instructions, ` +
              `${summary.counts.kept} kept (${summary.counts.train} train, ${summary.counts.test} test)\n` +
              `  dropped: ${summary.counts.tooShortOrLong} length, ${summary.counts.lowQuality} quality, ${summary.counts.exactDuplicates} exact and ${summary.counts.nearDuplicates} near duplicates; ${summary.counts.failedChunks} chunks failed\n` +
              `  ${summary.pairsPerSecond} pairs/s over ${summary.seconds} s\n`,
          );
      } finally {
        stopHandlingSignals();
      }
    });

  addSettingOptions(dataset.command("preferences"), PREFERENCES_SETTINGS)
    .description("prompt/chosen/rejected pairs (DPO) from RAG traces with like/dislike feedback")
    .action(async (raw: Record<string, unknown>) => {
      const config = parsePreferencesConfig(raw);
      const { generatePreferenceDataset, parseSince } = await import("../../datasets/index.js");
      const sinceMs = config.since === undefined ? undefined : parseSince(config.since);
      const feedback = await readFeedbackEntries(config);
      if (feedback === undefined && config.traces === undefined)
        throw new AppError(
          "not_found",
          `no feedback yet: ${config.feedbackFile} does not exist (serve-rag writes it on POST /feedback); pass --feedback-file <path> (LLM_TWIN_FEEDBACK_FILE), --feedback-store redis://… (LLM_TWIN_FEEDBACK_STORE) or --traces <file.jsonl> (LLM_TWIN_TRACE_FILE)`,
        );
      const result = await generatePreferenceDataset({
        artifactsDirectory: config.artifacts,
        testFraction: config.testFraction,
        ...(config.traces === undefined ? {} : { tracesFile: config.traces }),
        ...(feedback === undefined ? {} : { feedback }),
        ...(sinceMs === undefined || config.since === undefined ? {} : { sinceMs, sinceText: config.since }),
      });
      const { counts } = result.manifest;
      if (config.json)
        process.stdout.write(
          `${JSON.stringify({ version: result.manifest.version, path: result.path, created: result.created, lineage: result.manifest.lineage, counts })}\n`,
        );
      else
        process.stdout.write(
          `preference dataset ${result.manifest.version} (${result.created ? "new" : "unchanged"}) in ${result.path}\n` +
            `  ${counts.inWindow} traces in the window (${counts.liked} liked, ${counts.disliked} disliked): ${counts.pairs} pairs ` +
            `(${counts.fromLikedAnswers} chosen from liked answers, ${counts.fromAuthorSources} from the author's sources), ${counts.unpaired} disliked without a chosen text\n`,
        );
    });
}

/** Every entry of the RAG service's feedback store (newest first); none when its file does not exist. */
async function readFeedbackEntries(config: ReturnType<typeof parsePreferencesConfig>) {
  if (config.feedbackStore !== undefined) {
    const { openRedisFeedbackStore } = await import("../../rag/feedback/redis-store.js");
    const { redactQueueUrl } = await import("../../queue/reachability.js");
    const store = await openRedisFeedbackStore({
      url: config.feedbackStore,
      capacity: Number.MAX_SAFE_INTEGER,
      connectTimeoutMs: config.feedbackStoreTimeoutMs,
    });
    try {
      return { entries: await store.list(), store: redactQueueUrl(config.feedbackStore) };
    } finally {
      await store[Symbol.asyncDispose]();
    }
  }
  if (!existsSync(config.feedbackFile)) return undefined;
  const { openFeedbackStore } = await import("../../rag/feedback/store.js");
  const store = await openFeedbackStore({ file: config.feedbackFile, capacity: Number.MAX_SAFE_INTEGER });
  try {
    return { entries: await store.list(), store: `file:${config.feedbackFile}` };
  } finally {
    await store[Symbol.asyncDispose]();
  }
}
