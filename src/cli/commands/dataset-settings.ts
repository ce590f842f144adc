/** `dataset instruct` and `dataset preferences` settings in the configuration registry (src/config/settings.ts). */
import { z } from "zod";
import { jsonOutputSetting, parseSettingValues, type Setting, schemas } from "../../config/settings.js";
import { DEFAULT_FILTER_OPTIONS as DEFAULT_FILTERS } from "../../datasets/filters.js";
import { AppError } from "../../errors/index.js";
import { DEFAULT_FEEDBACK_FILE } from "../../rag/feedback/store.js";
import { DEFAULT_ARTIFACTS_DIR } from "./ingest-settings.js";

const { positiveInteger, text, unit } = schemas;

const TEST_FRACTION = {
  key: "testFraction",
  flag: "--test-fraction <x>",
  env: "LLM_TWIN_TEST_FRACTION",
  schema: unit,
  default: "0.1",
  help: "share of pairs in the test split (0–1)",
} as const satisfies Setting;

const ARTIFACTS = {
  key: "artifacts",
  flag: "--artifacts <dir>",
  env: "LLM_TWIN_ARTIFACTS_DIR",
  schema: text,
  default: DEFAULT_ARTIFACTS_DIR,
  help: "folder of dataset artifacts",
} as const satisfies Setting;

const JSON_OUTPUT = jsonOutputSetting(
  "print the result as one JSON object on stdout (instruct: version, path, counts, chunks, resumedChunks, writerCalls, seconds, pairsPerSecond)",
);

export const INSTRUCT_SETTINGS = [
  {
    key: "fromArtifact",
    flag: "--from-artifact <version>",
    env: "LLM_TWIN_FROM_ARTIFACT",
    schema: text,
    default: "latest",
    help: 'document artifact version, or "latest"',
  },
  {
    key: "llmUrl",
    flag: "--llm-url <url>",
    env: "LLM_TWIN_LLM_URL",
    schema: z.url({ error: "must be an http(s) URL of an OpenAI-compatible server" }),
    required: true,
    help: "OpenAI-compatible server writing the instructions (…/v1/chat/completions)",
  },
  {
    key: "llmModel",
    flag: "--llm-model <name>",
    env: "LLM_TWIN_LLM_MODEL",
    schema: text,
    default: "writer",
    help: "model name sent to that server",
  },
  {
    key: "apiKey",
    flag: "--api-key <key>",
    env: "LLM_TWIN_LLM_API_KEY",
    schema: z.string().optional(),
    help: "bearer token for that server",
  },
  {
    key: "perChunk",
    flag: "--per-chunk <n>",
    env: "LLM_TWIN_INSTRUCTIONS_PER_CHUNK",
    schema: positiveInteger.max(20, "must be at most 20"),
    default: "3",
    help: "instructions asked per chunk (1–20)",
  },
  {
    key: "concurrency",
    flag: "--concurrency <n>",
    env: "LLM_TWIN_DATASET_CONCURRENCY",
    schema: positiveInteger.max(64, "must be at most 64"),
    default: "4",
    help: "chunks in flight at once (1–64)",
  },
  {
    key: "timeout",
    flag: "--timeout <ms>",
    env: "LLM_TWIN_LLM_TIMEOUT_MS",
    schema: positiveInteger,
    default: "60000",
    help: "per writer request",
  },
  {
    key: "retries",
    flag: "--retries <n>",
    env: "LLM_TWIN_LLM_RETRIES",
    schema: z.coerce.number({ error: "must be a number" }).int("must be an integer").min(0, "must be 0 or more"),
    default: "2",
    help: "retries on network errors, HTTP 429 and 5xx (backoff 200 ms × 2ⁿ)",
  },
  {
    key: "maxTokens",
    flag: "--max-tokens <n>",
    env: "LLM_TWIN_WRITER_MAX_TOKENS",
    schema: z.union([z.literal("auto"), positiveInteger]).transform((value) => (value === "auto" ? undefined : value)),
    default: "auto",
    help: "max_tokens of one writer request (auto: 160 × --per-chunk)",
  },
  // The filters (docs/datasets.md): length bounds, also sent as the JSON schema's string bounds.
  {
    key: "minInstructionChars",
    flag: "--min-instruction-chars <n>",
    env: "LLM_TWIN_MIN_INSTRUCTION_CHARS",
    schema: positiveInteger,
    default: String(DEFAULT_FILTERS.minInstructionChars),
    help: "shortest instruction kept (and the JSON schema's minLength)",
  },
  {
    key: "maxInstructionChars",
    flag: "--max-instruction-chars <n>",
    env: "LLM_TWIN_MAX_INSTRUCTION_CHARS",
    schema: positiveInteger,
    default: String(DEFAULT_FILTERS.maxInstructionChars),
    help: "longest instruction kept (and the JSON schema's maxLength)",
  },
  {
    key: "minOutputChars",
    flag: "--min-output-chars <n>",
    env: "LLM_TWIN_MIN_OUTPUT_CHARS",
    schema: z.coerce.number({ error: "must be a number" }).int("must be an integer").min(0, "must be 0 or more"),
    default: String(DEFAULT_FILTERS.minOutputChars),
    help: "shortest answer (chunk) kept",
  },
  {
    key: "nearDuplicateThreshold",
    flag: "--near-duplicate-threshold <x>",
    env: "LLM_TWIN_NEAR_DUPLICATE_THRESHOLD",
    schema: z.coerce
      .number({ error: "must be a number" })
      .gt(0, "must be above 0 and at most 1")
      .max(1, "must be above 0 and at most 1"),
    default: String(DEFAULT_FILTERS.nearDuplicateThreshold),
    help: "drop an instruction whose word 3-gram Jaccard similarity with a kept one is at least this (0–1]",
  },
  TEST_FRACTION,
  ARTIFACTS,
  {
    key: "progress",
    flag: "--no-progress",
    env: "LLM_TWIN_NO_PROGRESS",
    schema: z.boolean().default(true),
    defaultText: "progress lines",
    help: "no `instruct: done/total chunks (k from a previous run), n instructions` lines on stderr (once a second)",
  },
  JSON_OUTPUT,
] as const satisfies readonly Setting[];

export const PREFERENCES_SETTINGS = [
  {
    key: "fromTraces",
    flag: "--from-traces",
    env: "LLM_TWIN_FROM_TRACES",
    schema: z.boolean().default(false),
    defaultText: "true (the default source)",
    help: "read traces with feedback: the RAG service's feedback store (POST /feedback: --feedback-file when it exists, or --feedback-store) and the --traces file when given (the default)",
  },
  {
    key: "traces",
    flag: "--traces <file.jsonl>",
    env: "LLM_TWIN_TRACE_FILE",
    schema: z.string().trim().min(1, "must not be empty").optional(),
    help: "traces JSON Lines file with feedback (serve-rag --trace-file)",
  },
  {
    key: "feedbackFile",
    flag: "--feedback-file <path>",
    env: "LLM_TWIN_FEEDBACK_FILE",
    schema: text,
    default: DEFAULT_FEEDBACK_FILE,
    help: "the RAG service's feedback file (serve-rag --feedback-file), read when it exists",
  },
  {
    key: "feedbackStore",
    flag: "--feedback-store <url>",
    env: "LLM_TWIN_FEEDBACK_STORE",
    schema: z
      .string()
      .trim()
      .regex(/^rediss?:\/\/\S+$/i, "must be a redis:// or rediss:// URL (unset: --feedback-file)")
      .optional(),
    defaultText: "none (--feedback-file)",
    help: "the RAG service's Redis feedback store (serve-rag --feedback-store redis://…); unset: --feedback-file",
  },
  {
    key: "feedbackStoreTimeoutMs",
    flag: "--feedback-store-timeout-ms <ms>",
    env: "LLM_TWIN_FEEDBACK_STORE_TIMEOUT_MS",
    schema: positiveInteger,
    default: "5000",
    help: "wait for that Redis at start (fail beyond)",
  },
  {
    key: "since",
    flag: "--since <duration>",
    env: "LLM_TWIN_SINCE",
    schema: z.string().optional(),
    defaultText: "all",
    help: "only traces of the last 7d, 12h, 30m...",
  },
  TEST_FRACTION,
  ARTIFACTS,
  JSON_OUTPUT,
] as const satisfies readonly Setting[];

export function parseInstructConfig(raw: Record<string, unknown>) {
  const config = parseSettingValues(INSTRUCT_SETTINGS, raw);
  if (config.maxInstructionChars < config.minInstructionChars)
    throw new AppError(
      "configuration_error",
      `--max-instruction-chars (${config.maxInstructionChars}) is below --min-instruction-chars (${config.minInstructionChars})`,
    );
  return config;
}

/** `dataset preferences`' flags. */
export function parsePreferencesConfig(raw: Record<string, unknown>) {
  return parseSettingValues(PREFERENCES_SETTINGS, raw);
}
