/**
 * The RAG service's settings: the flags of ./options.ts validated once with zod (failing fast,
 * naming the flag and the variable at fault), and the configurations they turn into.
 */
import { readFileSync } from "node:fs";
import { z } from "zod";
import { DATA_CATEGORIES } from "../../domain/index.js";
import { AppError } from "../../errors/index.js";
import { type PromptTemplate, validateCustomTemplate } from "../../preprocessing/index.js";
import { HYBRID_FUSIONS } from "../../vector-store/index.js";
import { DEFAULT_RAG_CONFIG, type RagConfig } from "../config.js";
import type { RagHttpConfig } from "../http/app.js";
import { parseSettings, RAG_SERVICE_OPTIONS } from "./options.js";

const integer = (min: number) => z.coerce.number().int().min(min);
const milliseconds = integer(1);

const settingsSchema = z.object({
  port: integer(0).max(65535),
  host: z.string().min(1),
  store: z.string().min(1),
  embedder: z.string().min(1),
  reranker: z.string().min(1).optional(),
  retrievalMode: z.enum(["dense", "lexical", "hybrid"]),
  promptTemplate: z.string().min(1),
  k: integer(1),
  maxK: integer(1),
  expandQueries: integer(1),
  selfQuery: z.enum(["match", "llm", "off"]),
  categories: z.string().transform((value, context) => {
    const list = value
      .split(",")
      .map((item) => item.trim())
      .filter((item) => item !== "");
    const unknown = list.filter((item) => !(DATA_CATEGORIES as readonly string[]).includes(item));
    if (list.length === 0 || unknown.length > 0) {
      context.addIssue({ code: "custom", message: `expected a comma-separated list of ${DATA_CATEGORIES.join(", ")}` });
      return z.NEVER;
    }
    return list as RagConfig["categories"];
  }),
  searchLimit: integer(1),
  hybridFusion: z.enum(HYBRID_FUSIONS),
  hybridDenseWeight: z.coerce.number().min(0).max(1),
  rrfK: z.coerce.number().min(0),
  titleWeight: z.coerce.number().min(0),
  rerankCandidates: integer(1),
  rerankerFailure: z.enum(["fallback", "fail"]),
  contextTokens: integer(1),
  maxNewTokens: integer(1),
  maxNewTokensLimit: integer(1),
  temperature: z.coerce.number().min(0).max(2),
  maxQueryChars: integer(1),
  maxHistoryTurns: integer(0),
  maxHistoryChars: integer(1),
  historyTokens: integer(0),
  condenseMaxNewTokens: integer(1),
  condenseMinWordShare: z.coerce.number().min(0).max(1),
  condenseMinOverlap: z.coerce.number().min(0).max(1),
  bodyLimit: integer(1024),
  apiKeys: z.string().default(""),
  rateLimit: integer(0),
  rateLimitWindowMs: milliseconds,
  maxGenerations: z.union([z.literal("auto"), integer(1)]),
  authFailureLimit: integer(0),
  authFailureWindowMs: milliseconds,
  headersTimeoutMs: milliseconds,
  receiveTimeoutMs: milliseconds,
  keepAliveTimeoutMs: milliseconds,
  llmTimeoutMs: milliseconds,
  embedderTimeoutMs: milliseconds,
  embedderRequestTimeoutMs: milliseconds,
  embedderRetries: integer(0),
  storeTimeoutMs: milliseconds,
  rerankerTimeoutMs: milliseconds,
  readyTimeoutMs: milliseconds,
  traceCapacity: integer(1),
  traceFile: z.string().min(1).optional(),
  traceFileMaxBytes: integer(1024),
  feedbackFile: z.string().min(1),
  feedbackCapacity: integer(1),
  feedbackStore: z
    .string()
    .regex(/^rediss?:\/\/\S+$/i, "must be a redis:// or rediss:// URL (leave it unset for the local --feedback-file)")
    .optional(),
  feedbackStoreTimeoutMs: milliseconds,
  feedbackCommentMaxChars: integer(1),
  onlineEvalRate: z.coerce.number().min(0).max(1),
  onlineEvalQueue: integer(1),
  judgeUrl: z.string().url().optional(),
  judgeModel: z.string().min(1),
  judgeApiKey: z.string().min(1).optional(),
  judgeTimeoutMs: milliseconds,
  voiceCorpus: z.string().min(1).optional(),
  tracePrompts: z.enum(["full", "redacted", "off"]),
  otlpEndpoint: z.string().url().optional(),
  cache: z.string().regex(/^(memory|off|rediss?:\/\/\S+)$/, "must be memory, off or a redis:// / rediss:// URL"),
  cacheSimilarity: z.coerce.number().min(0).max(1),
  cacheMaxEntries: integer(1),
  cacheTtlSeconds: z.coerce.number().positive(),
  cacheMaxTemperature: z.coerce.number().min(0).max(2),
  cacheTimeoutMs: milliseconds,
  logLevel: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]),
  cacheDir: z.string().min(1).optional(),
  registry: z.string().min(1).optional(),
  adapterRouting: z.enum(["on", "off"]),
  adapterRefreshMs: milliseconds,
});

export type RagServiceSettings = z.infer<typeof settingsSchema>;

export function parseRagServiceSettings(raw: Record<string, unknown>): RagServiceSettings {
  const settings = parseSettings(settingsSchema, raw, RAG_SERVICE_OPTIONS);
  if (settings.k > settings.maxK)
    throw new AppError("configuration_error", `--k (${settings.k}) exceeds --max-k (${settings.maxK})`);
  if (settings.maxNewTokens > settings.maxNewTokensLimit) {
    throw new AppError(
      "configuration_error",
      `--max-new-tokens (${settings.maxNewTokens}) exceeds --max-new-tokens-limit (${settings.maxNewTokensLimit})`,
    );
  }
  if (settings.onlineEvalRate > 0 && settings.judgeUrl === undefined && settings.voiceCorpus === undefined) {
    throw new AppError(
      "configuration_error",
      "--online-eval-rate (LLM_TWIN_ONLINE_EVAL_RATE) needs a scorer: --judge-url (LLM_TWIN_JUDGE_URL) and/or --voice-corpus (LLM_TWIN_VOICE_CORPUS)",
    );
  }
  return settings;
}

/** "chat", "alpaca", or a file holding a custom template with {query} and {context}. */
export function loadPromptTemplate(value: string): PromptTemplate {
  if (value === "chat" || value === "alpaca") return value;
  let text: string;
  try {
    text = readFileSync(value, "utf8");
  } catch (error) {
    throw new AppError(
      "configuration_error",
      `--prompt-template (LLM_TWIN_PROMPT_TEMPLATE): "${value}" is neither chat, alpaca nor a readable file`,
      { cause: error },
    );
  }
  validateCustomTemplate(text);
  return { custom: text };
}

export function ragConfigFromSettings(settings: RagServiceSettings): RagConfig {
  return {
    ...DEFAULT_RAG_CONFIG,
    retrievalMode: settings.retrievalMode,
    k: settings.k,
    maxK: settings.maxK,
    expandQueries: settings.expandQueries,
    maxExpandQueries: Math.max(DEFAULT_RAG_CONFIG.maxExpandQueries, settings.expandQueries),
    selfQuery: settings.selfQuery,
    categories: settings.categories,
    searchLimit: settings.searchLimit,
    hybridFusion: settings.hybridFusion,
    hybridDenseWeight: settings.hybridDenseWeight,
    rrfK: settings.rrfK,
    titleWeight: settings.titleWeight,
    rerankCandidates: settings.rerankCandidates,
    rerankerFailure: settings.rerankerFailure,
    contextTokenBudget: settings.contextTokens,
    promptTemplate: loadPromptTemplate(settings.promptTemplate),
    maxNewTokens: settings.maxNewTokens,
    maxNewTokensLimit: settings.maxNewTokensLimit,
    temperature: settings.temperature,
    maxQueryChars: settings.maxQueryChars,
    maxHistoryTurns: settings.maxHistoryTurns,
    maxHistoryChars: settings.maxHistoryChars,
    historyTokenBudget: settings.historyTokens,
    condenseMaxNewTokens: settings.condenseMaxNewTokens,
    condenseMinWordShare: settings.condenseMinWordShare,
    condenseMinOverlap: settings.condenseMinOverlap,
    llmTimeoutMs: settings.llmTimeoutMs,
    embedderTimeoutMs: settings.embedderTimeoutMs,
    storeTimeoutMs: settings.storeTimeoutMs,
    rerankerTimeoutMs: settings.rerankerTimeoutMs,
  };
}

/** serve-rag's bound on generations in flight with --max-generations auto: serve-llm's default limit. */
export const DEFAULT_REMOTE_MAX_GENERATIONS = 8;

/** `autoMaxGenerations`: what --max-generations auto means for this process (the engine's own limit in serve). */
export function httpConfigFromSettings(
  settings: RagServiceSettings,
  autoMaxGenerations = DEFAULT_REMOTE_MAX_GENERATIONS,
): RagHttpConfig {
  return {
    maxGenerations: settings.maxGenerations === "auto" ? autoMaxGenerations : settings.maxGenerations,
    apiKeys: settings.apiKeys
      .split(",")
      .map((key) => key.trim())
      .filter((key) => key !== ""),
    rateLimit: settings.rateLimit === 0 ? false : { max: settings.rateLimit, timeWindowMs: settings.rateLimitWindowMs },
    bodyLimitBytes: settings.bodyLimit,
    authFailureLimit: { max: settings.authFailureLimit, windowMs: settings.authFailureWindowMs },
    timeouts: {
      headersTimeoutMs: settings.headersTimeoutMs,
      receiveTimeoutMs: settings.receiveTimeoutMs,
      keepAliveTimeoutMs: settings.keepAliveTimeoutMs,
    },
  };
}

/** Settings as the flags' defaults give them, with overrides (tests, benchmarks, embedding the service). */
export function defaultRagServiceSettings(
  overrides: Partial<Record<keyof RagServiceSettings, unknown>> = {},
): RagServiceSettings {
  const raw: Record<string, unknown> = {};
  for (const spec of RAG_SERVICE_OPTIONS) if (spec.default !== undefined) raw[spec.key] = spec.default;
  return parseRagServiceSettings({ ...raw, ...overrides });
}
