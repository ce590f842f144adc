/**
 * The RAG service's settings: the registry entries of ./options.ts validated once with zod (failing fast,
 * naming the flag and the variable at fault), and the configurations they turn into.
 */
import { readFileSync } from "node:fs";
import { parseSettingValues, type SettingsValues, settingDefaults } from "../../config/settings.js";
import { AppError } from "../../errors/index.js";
import { type PromptTemplate, validateCustomTemplate } from "../../preprocessing/index.js";
import { DEFAULT_RAG_CONFIG, type RagConfig } from "../config.js";
import type { RagHttpConfig } from "../http/app.js";
import { RAG_SERVICE_OPTIONS } from "./options.js";

/** The RAG service settings, typed from their registry entries (./options.ts). */
export type RagServiceSettings = SettingsValues<typeof RAG_SERVICE_OPTIONS>;

export function parseRagServiceSettings(raw: Record<string, unknown>): RagServiceSettings {
  const settings = parseSettingValues(RAG_SERVICE_OPTIONS, raw);
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
    apiKeys: settings.apiKeys,
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
  return parseRagServiceSettings({ ...settingDefaults(RAG_SERVICE_OPTIONS), ...overrides });
}
