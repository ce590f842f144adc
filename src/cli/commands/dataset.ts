/** `llm-twin dataset instruct|preferences`: training datasets written as versioned dataset artifacts. */
import { existsSync } from "node:fs";
import { type Command, Option } from "commander";
import { z } from "zod";
import { DEFAULT_FILTER_OPTIONS as DEFAULT_FILTERS } from "../../datasets/filters.js";
import { AppError } from "../../errors/index.js";
import { DEFAULT_FEEDBACK_FILE } from "../../rag/feedback/store.js";
import { handleShutdownSignals } from "../../runtime/index.js";
import { positive } from "../flag-schemas.js";
import { DEFAULT_ARTIFACTS_DIR } from "./ingest.js";

const instructSchema = z.object({
  artifacts: z.string().trim().min(1, "--artifacts must not be empty"),
  fromArtifact: z.string().trim().min(1, "--from-artifact must not be empty"),
  llmUrl: z.url({ error: "--llm-url must be an http(s) URL of an OpenAI-compatible server" }),
  llmModel: z.string().trim().min(1),
  perChunk: positive("--per-chunk").max(20, "--per-chunk must be at most 20"),
  concurrency: positive("--concurrency").max(64, "--concurrency must be at most 64"),
  timeout: positive("--timeout"),
  retries: z.coerce.number({ error: "--retries must be a number" }).int().min(0, "--retries must be 0 or more"),
  testFraction: z.coerce
    .number({ error: "--test-fraction must be a number" })
    .min(0, "--test-fraction must be between 0 and 1")
    .max(1, "--test-fraction must be between 0 and 1"),
  maxTokens: positive("--max-tokens").optional(),
  minInstructionChars: positive("--min-instruction-chars"),
  maxInstructionChars: positive("--max-instruction-chars"),
  minOutputChars: z.coerce
    .number({ error: "--min-output-chars must be a number" })
    .int("--min-output-chars must be an integer")
    .min(0, "--min-output-chars must be 0 or more"),
  nearDuplicateThreshold: z.coerce
    .number({ error: "--near-duplicate-threshold must be a number" })
    .gt(0, "--near-duplicate-threshold must be above 0 and at most 1")
    .max(1, "--near-duplicate-threshold must be above 0 and at most 1"),
  apiKey: z.string().optional(),
  json: z.boolean(),
  progress: z.boolean(),
});

export function parseInstructConfig(raw: Record<string, unknown>) {
  if (raw.llmUrl === undefined)
    throw new AppError(
      "configuration_error",
      "--llm-url (LLM_TWIN_LLM_URL) is required: the OpenAI-compatible server that writes the instructions",
    );
  const parsed = instructSchema.safeParse({
    ...raw,
    maxTokens: raw.maxTokens === "auto" ? undefined : raw.maxTokens,
    json: raw.json === true,
    progress: raw.progress !== false,
  });
  if (!parsed.success)
    throw new AppError("configuration_error", parsed.error.issues.map((issue) => issue.message).join("; "));
  if (parsed.data.maxInstructionChars < parsed.data.minInstructionChars)
    throw new AppError(
      "configuration_error",
      `--max-instruction-chars (${parsed.data.maxInstructionChars}) is below --min-instruction-chars (${parsed.data.minInstructionChars})`,
    );
  return parsed.data;
}

export function registerDatasetCommand(program: Command): void {
  const dataset = program
    .command("dataset")
    .description("Training datasets (instruct, preferences) as versioned dataset artifacts");
  dataset
    .command("instruct")
    .description("instruction/answer pairs from a document artifact's chunks, instructions written by an LLM")
    .addOption(
      new Option("--from-artifact <version>", 'document artifact version, or "latest"')
        .env("LLM_TWIN_FROM_ARTIFACT")
        .default("latest"),
    )
    .addOption(
      new Option("--llm-url <url>", "OpenAI-compatible server writing the instructions (…/v1/chat/completions)").env(
        "LLM_TWIN_LLM_URL",
      ),
    )
    .addOption(
      new Option("--llm-model <name>", "model name sent to that server").env("LLM_TWIN_LLM_MODEL").default("writer"),
    )
    .addOption(new Option("--api-key <key>", "bearer token for that server").env("LLM_TWIN_LLM_API_KEY"))
    .addOption(
      new Option("--per-chunk <n>", "instructions asked per chunk (1–20)")
        .env("LLM_TWIN_INSTRUCTIONS_PER_CHUNK")
        .default("3"),
    )
    .addOption(
      new Option("--concurrency <n>", "chunks in flight at once (1–64)")
        .env("LLM_TWIN_DATASET_CONCURRENCY")
        .default("4"),
    )
    .addOption(new Option("--timeout <ms>", "per writer request").env("LLM_TWIN_LLM_TIMEOUT_MS").default("60000"))
    .addOption(
      new Option("--retries <n>", "retries of a failed writer request (HTTP 429/5xx, network)")
        .env("LLM_TWIN_LLM_RETRIES")
        .default("2"),
    )
    .addOption(
      new Option("--max-tokens <n>", "max_tokens of one writer request (auto: 160 × --per-chunk)")
        .env("LLM_TWIN_WRITER_MAX_TOKENS")
        .default("auto"),
    )
    // The filters (docs/datasets.md): length bounds, also sent as the JSON schema's string bounds.
    .addOption(
      new Option("--min-instruction-chars <n>", "shortest instruction kept")
        .env("LLM_TWIN_MIN_INSTRUCTION_CHARS")
        .default(String(DEFAULT_FILTERS.minInstructionChars)),
    )
    .addOption(
      new Option("--max-instruction-chars <n>", "longest instruction kept")
        .env("LLM_TWIN_MAX_INSTRUCTION_CHARS")
        .default(String(DEFAULT_FILTERS.maxInstructionChars)),
    )
    .addOption(
      new Option("--min-output-chars <n>", "shortest answer (chunk) kept")
        .env("LLM_TWIN_MIN_OUTPUT_CHARS")
        .default(String(DEFAULT_FILTERS.minOutputChars)),
    )
    .addOption(
      new Option(
        "--near-duplicate-threshold <x>",
        "drop an instruction whose word 3-gram Jaccard similarity with a kept one is at least this (0–1]",
      )
        .env("LLM_TWIN_NEAR_DUPLICATE_THRESHOLD")
        .default(String(DEFAULT_FILTERS.nearDuplicateThreshold)),
    )
    .addOption(testFractionOption())
    .addOption(artifactsOption())
    .addOption(new Option("--no-progress", "no progress lines on stderr").env("LLM_TWIN_NO_PROGRESS"))
    .addOption(new Option("--json", "print the result as one JSON object on stdout").env("LLM_TWIN_JSON"))
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

  dataset
    .command("preferences")
    .description("prompt/chosen/rejected pairs (DPO) from RAG traces with like/dislike feedback")
    .option(
      "--from-traces",
      "read traces with feedback: the RAG service's feedback store (POST /feedback: --feedback-file when it exists, or --feedback-store) and the --traces file when given (the default)",
    )
    .addOption(
      new Option("--traces <file.jsonl>", "traces JSON Lines file with feedback (serve-rag --trace-file)").env(
        "LLM_TWIN_TRACE_FILE",
      ),
    )
    .addOption(
      new Option("--feedback-file <path>", "the RAG service's feedback file (serve-rag --feedback-file)")
        .env("LLM_TWIN_FEEDBACK_FILE")
        .default(DEFAULT_FEEDBACK_FILE),
    )
    .addOption(
      new Option(
        "--feedback-store <url>",
        "the RAG service's Redis feedback store (serve-rag --feedback-store redis://…); unset: --feedback-file",
      ).env("LLM_TWIN_FEEDBACK_STORE"),
    )
    .addOption(
      new Option("--feedback-store-timeout-ms <ms>", "wait for that Redis at start (fail beyond)")
        .env("LLM_TWIN_FEEDBACK_STORE_TIMEOUT_MS")
        .default("5000"),
    )
    .addOption(
      new Option("--since <duration>", "only traces of the last 7d, 12h, 30m... (default: all)").env("LLM_TWIN_SINCE"),
    )
    .addOption(testFractionOption())
    .addOption(artifactsOption())
    .addOption(new Option("--json", "print the result as one JSON object on stdout").env("LLM_TWIN_JSON"))
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

const preferencesSchema = z.object({
  traces: z.string().trim().min(1, "--traces must not be empty").optional(),
  fromTraces: z.boolean(),
  feedbackFile: z.string().trim().min(1, "--feedback-file must not be empty"),
  feedbackStore: z
    .string()
    .trim()
    .regex(/^rediss?:\/\/\S+$/i, "--feedback-store must be a redis:// or rediss:// URL (unset: --feedback-file)")
    .optional(),
  feedbackStoreTimeoutMs: positive("--feedback-store-timeout-ms"),
  since: z.string().optional(),
  testFraction: z.coerce
    .number({ error: "--test-fraction must be a number" })
    .min(0, "--test-fraction must be between 0 and 1")
    .max(1, "--test-fraction must be between 0 and 1"),
  artifacts: z.string().trim().min(1, "--artifacts must not be empty"),
  json: z.boolean(),
});

/** `dataset preferences`' flags. */
export function parsePreferencesConfig(raw: Record<string, unknown>) {
  const parsed = preferencesSchema.safeParse({
    ...raw,
    traces: raw.traces === "" ? undefined : raw.traces,
    feedbackStore: raw.feedbackStore === "" ? undefined : raw.feedbackStore,
    fromTraces: raw.fromTraces === true,
    json: raw.json === true,
  });
  if (!parsed.success)
    throw new AppError("configuration_error", parsed.error.issues.map((issue) => issue.message).join("; "));
  return parsed.data;
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

/** `--test-fraction`, shared by the dataset commands. */
function testFractionOption(): Option {
  return new Option("--test-fraction <x>", "share of pairs in the test split (0–1)")
    .env("LLM_TWIN_TEST_FRACTION")
    .default("0.1");
}

/** `--artifacts`, shared by the dataset commands. */
function artifactsOption(): Option {
  return new Option("--artifacts <dir>", "folder of dataset artifacts")
    .env("LLM_TWIN_ARTIFACTS_DIR")
    .default(DEFAULT_ARTIFACTS_DIR);
}
