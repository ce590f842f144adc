/** `eval generation`'s settings in the configuration registry (src/config/settings.ts) and their parsing. */
import { z } from "zod";
import { parseSettingValues, type Setting, type SettingsValues, schemas } from "../../config/settings.js";
import { HTTP_EMBEDDER_SETTINGS } from "../../embedding/http/settings.js";
import { AppError } from "../../errors/index.js";
import { DEFAULT_JUDGE_OPTIONS } from "../../eval/generation/judge-defaults.js";
import { DEFAULT_VOICE_CORPUS } from "./eval-voice-settings.js";

export const DEFAULT_GENERATION_REPORT = "./.llm-twin/eval/generation-report.md";
export const DEFAULT_GENERATION_TRACE_FILE = "./.llm-twin/eval/generation-traces.jsonl";
export const DEFAULT_GENERATION_STORE = "lancedb:./.llm-twin/eval/llm-twin";
const DEFAULT_RAG_TIMEOUT_MS = 120_000;

const { positiveInteger, text } = schemas;
const url = z.url({ error: "must be a URL (http://host:port)" });

export const EVAL_GENERATION_SETTINGS = [
  {
    key: "questions",
    flag: "--questions <file.jsonl|llm-twin>",
    env: "LLM_TWIN_EVAL_GENERATION_QUESTIONS",
    schema: text,
    required: true,
    help: 'JSON Lines of {question, author?, reference?, history?}, or "llm-twin" (the project\'s questions)',
  },
  {
    key: "ragUrl",
    flag: "--rag-url <url>",
    env: "LLM_TWIN_EVAL_GENERATION_RAG_URL",
    schema: url.optional(),
    help: "evaluate a running RAG service (POST /rag) instead of the pipeline in this process",
  },
  {
    key: "ragApiKey",
    flag: "--rag-api-key <key>",
    env: "LLM_TWIN_RAG_API_KEY",
    schema: text.optional(),
    help: "API key of the RAG service",
  },
  {
    key: "ragTimeoutMs",
    flag: "--rag-timeout-ms <ms>",
    env: "LLM_TWIN_EVAL_RAG_TIMEOUT_MS",
    schema: positiveInteger,
    default: String(DEFAULT_RAG_TIMEOUT_MS),
    help: "deadline of one answer of the RAG service",
  },
  {
    key: "store",
    flag: "--store <uri>",
    env: "LLM_TWIN_EVAL_GENERATION_STORE",
    schema: text,
    default: DEFAULT_GENERATION_STORE,
    help: "in process: the vector store",
  },
  {
    key: "embedder",
    flag: "--embedder <spec>",
    env: "LLM_TWIN_EMBEDDER",
    schema: text,
    default: "static",
    help: "in process: the embedder of the store",
  },
  ...HTTP_EMBEDDER_SETTINGS,
  {
    key: "corpus",
    flag: "--corpus <file|folder>",
    env: "LLM_TWIN_EVAL_GENERATION_CORPUS",
    schema: text.optional(),
    defaultText: "for --questions llm-twin: the LLM Twin articles",
    help: "in process: documents to ingest into the store first (idempotent)",
  },
  {
    key: "model",
    flag: "--model <gguf>",
    env: "LLM_TWIN_MODEL",
    schema: text.optional(),
    help: 'in process: GGUF model (path, URL, hf:...) or "demo" (offline random-weight model)',
  },
  {
    key: "llmUrl",
    flag: "--llm-url <url>",
    env: "LLM_TWIN_EVAL_GENERATION_LLM_URL",
    schema: text.optional(),
    help: "in process: an LLM service instead of --model (TGI API; openai:<url> also works)",
  },
  {
    key: "llmApi",
    flag: "--llm-api <api>",
    env: "LLM_TWIN_LLM_API",
    schema: z.enum(["tgi", "openai"], { error: "must be tgi or openai" }),
    default: "tgi",
    choices: ["tgi", "openai"],
    help: "API of a plain http(s) --llm-url",
  },
  {
    key: "threads",
    flag: "--threads <n>",
    env: "LLM_TWIN_THREADS",
    schema: positiveInteger.optional(),
    defaultText: "cores available",
    help: "in process: llama.cpp threads",
  },
  {
    key: "k",
    flag: "--k <n>",
    env: "LLM_TWIN_EVAL_GENERATION_K",
    schema: positiveInteger.optional(),
    defaultText: "the service's",
    help: "in process: sources kept per answer",
  },
  {
    key: "maxNewTokens",
    flag: "--max-new-tokens <n>",
    env: "LLM_TWIN_EVAL_GENERATION_MAX_NEW_TOKENS",
    schema: positiveInteger.optional(),
    defaultText: "the service's",
    help: "in process: answer length limit",
  },
  {
    key: "expandQueries",
    flag: "--expand-queries <n>",
    env: "LLM_TWIN_EVAL_GENERATION_EXPAND_QUERIES",
    schema: positiveInteger.optional(),
    defaultText: "the service's",
    help: "in process: queries after expansion, 1 = off",
  },
  {
    key: "selfQuery",
    flag: "--self-query <mode>",
    env: "LLM_TWIN_EVAL_GENERATION_SELF_QUERY",
    schema: z.enum(["match", "llm", "off"], { error: "must be match, llm or off" }).optional(),
    choices: ["match", "llm", "off"],
    defaultText: "the service's",
    help: "in process: author detection",
  },
  {
    key: "traceFile",
    flag: "--trace-file <file>",
    env: "LLM_TWIN_EVAL_GENERATION_TRACE_FILE",
    schema: text,
    default: DEFAULT_GENERATION_TRACE_FILE,
    help: "in process: where the answers' traces go (JSON Lines, as the service's --trace-file)",
  },
  {
    key: "cacheDir",
    flag: "--cache-dir <dir>",
    env: "LLM_TWIN_CACHE_DIR",
    schema: text.optional(),
    defaultText: "~/.cache/llm-twin",
    help: "cache directory",
  },
  {
    key: "judgeUrl",
    flag: "--judge-url <url>",
    env: "LLM_TWIN_JUDGE_URL",
    schema: url.optional(),
    defaultText: "none: judge metrics are skipped",
    help: "OpenAI-compatible chat API of the judge: base URL, …/v1, or the full /v1/chat/completions URL",
  },
  {
    key: "judgeModel",
    flag: "--judge-model <name>",
    env: "LLM_TWIN_JUDGE_MODEL",
    schema: text,
    default: DEFAULT_JUDGE_OPTIONS.model,
    help: "model name sent to the judge",
  },
  {
    key: "judgeApiKey",
    flag: "--judge-api-key <key>",
    env: "LLM_TWIN_JUDGE_API_KEY",
    schema: text.optional(),
    help: "bearer token of the judge",
  },
  {
    key: "judgeTimeoutMs",
    flag: "--judge-timeout-ms <ms>",
    env: "LLM_TWIN_JUDGE_TIMEOUT_MS",
    schema: positiveInteger,
    default: String(DEFAULT_JUDGE_OPTIONS.timeoutMs),
    help: "deadline of one judge call (per attempt)",
  },
  {
    key: "judgeRetries",
    flag: "--judge-retries <n>",
    env: "LLM_TWIN_JUDGE_RETRIES",
    schema: z.coerce.number({ error: "must be a number" }).int("must be an integer").min(0, "must be 0 or more"),
    default: String(DEFAULT_JUDGE_OPTIONS.retries),
    help: "extra attempts after a judge transport failure (network, timeout, 429, 5xx)",
  },
  {
    key: "judgeConcurrency",
    flag: "--judge-concurrency <n>",
    env: "LLM_TWIN_JUDGE_CONCURRENCY",
    schema: positiveInteger,
    default: String(DEFAULT_JUDGE_OPTIONS.concurrency),
    help: "judge calls in flight at once",
  },
  {
    key: "voiceCorpus",
    flag: "--voice-corpus <file|folder>",
    env: "LLM_TWIN_EVAL_GENERATION_VOICE_CORPUS",
    schema: z.union([text, z.literal(false)]),
    default: DEFAULT_VOICE_CORPUS,
    negatable: "no voice scores",
    help: "the authors' documents for the voice model",
  },
  {
    key: "json",
    flag: "--json",
    env: "LLM_TWIN_EVAL_GENERATION_JSON",
    schema: z.boolean().default(false),
    defaultText: "false",
    help: "print one JSON object on stdout: run description, summary per metric (mean, median, count, missing, perAuthor, missingReasons), results per question (answer, traceId, sources, timings, voice, citationOverlap, judge), report",
  },
  {
    key: "report",
    flag: "--report <file.md>",
    env: "LLM_TWIN_EVAL_GENERATION_REPORT",
    schema: z.union([text, z.literal(false)]),
    default: DEFAULT_GENERATION_REPORT,
    negatable: "write no Markdown report",
    help: "Markdown report (charts in <name>-charts/ beside it)",
  },
  {
    key: "limitQuestions",
    flag: "--limit-questions <n>",
    env: "LLM_TWIN_EVAL_GENERATION_LIMIT_QUESTIONS",
    schema: positiveInteger.optional(),
    defaultText: "all",
    help: "only the first n questions",
  },
  {
    key: "progress",
    flag: "--progress <style>",
    env: "LLM_TWIN_EVAL_GENERATION_PROGRESS",
    schema: z.enum(["auto", "tty", "plain", "none"], { error: "must be auto, tty, plain or none" }),
    default: "auto",
    choices: ["auto", "tty", "plain", "none"],
    help: "progress display on stderr",
  },
] as const satisfies readonly Setting[];

export type EvalGenerationConfig = SettingsValues<typeof EVAL_GENERATION_SETTINGS>;

export function parseEvalGenerationConfig(raw: Record<string, unknown>): EvalGenerationConfig {
  const config = parseSettingValues(EVAL_GENERATION_SETTINGS, raw);
  if (config.ragUrl !== undefined && (config.model !== undefined || config.llmUrl !== undefined)) {
    throw new AppError(
      "configuration_error",
      "--rag-url evaluates a running service, which has its own model: leave out --model / --llm-url",
    );
  }
  if (config.ragUrl === undefined && config.model === undefined && config.llmUrl === undefined) {
    throw new AppError(
      "configuration_error",
      'no twin to evaluate: give --rag-url <running RAG service>, or run it in process with --model <gguf | "demo"> or --llm-url <LLM service>',
    );
  }
  if (config.model !== undefined && config.llmUrl !== undefined) {
    throw new AppError(
      "configuration_error",
      "give --model (in-process llama.cpp) or --llm-url (an LLM service), not both",
    );
  }
  return config;
}
