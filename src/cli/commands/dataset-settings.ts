/** `dataset instruct` and `dataset preferences` settings in the configuration registry (src/config/settings.ts). */
import { z } from "zod";
import { parseSettingValues, type Setting, schemas } from "../../config/settings.js";
import { AppError } from "../../errors/index.js";
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

const JSON_OUTPUT = {
  key: "json",
  flag: "--json",
  env: "LLM_TWIN_JSON",
  schema: z.boolean().default(false),
  defaultText: "false",
  help: "print the result as one JSON object on stdout (instruct: version, path, counts, chunks, resumedChunks, writerCalls, seconds, pairsPerSecond)",
} as const satisfies Setting;

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
    defaultText: "true (the only source)",
    help: "read the RAG service's trace file (--traces, LLM_TWIN_TRACE_FILE)",
  },
  {
    key: "traces",
    flag: "--traces <file.jsonl>",
    env: "LLM_TWIN_TRACE_FILE",
    schema: z.string().optional(),
    defaultText: "required",
    help: "traces JSON Lines file with feedback",
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
  return parseSettingValues(INSTRUCT_SETTINGS, raw);
}

export function parsePreferencesConfig(raw: Record<string, unknown>) {
  const config = parseSettingValues(PREFERENCES_SETTINGS, raw);
  if (config.traces === undefined || config.traces.trim() === "")
    throw new AppError(
      "configuration_error",
      "no traces file: pass --traces <file.jsonl> or set LLM_TWIN_TRACE_FILE (the RAG service's --trace-file)",
    );
  return { ...config, traces: config.traces };
}
