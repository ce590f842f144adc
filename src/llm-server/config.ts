/**
 * The LLM service's configuration, validated once at start-up. The CLI fills it from flags and
 * environment variables; every limit has a default documented in docs/llm-service.md.
 */
import { readdirSync } from "node:fs";
import path from "node:path";
import { z } from "zod";
import { AppError } from "../errors/index.js";
import { ENGINE_BACKENDS } from "../llm/llama-cpp/decode-port.js";
import { DEFAULT_AUTH_FAILURE_LIMIT, DEFAULT_HTTP_TIMEOUTS } from "../observability/http/index.js";

export const SAGEMAKER_MODEL_DIRECTORY = "/opt/ml/model";

const positiveInt = z.coerce.number().int().positive();

export const llmServerConfigSchema = z.object({
  model: z.string().min(1),
  modelId: z.string().min(1).optional(),
  host: z.string().min(1).default("0.0.0.0"),
  port: z.coerce.number().int().min(0).max(65535).default(8080),
  parallel: positiveInt.default(4),
  // Unset: decided once llama.cpp is loaded (src/llm/llama-cpp/runtime.ts): every core with an
  // OpenMP build, else one core fewer (docs/benchmarks.md, issue 8).
  threads: positiveInt.optional(),
  // Unset: --threads when given, else every core (runtime.ts, defaultThreadsBatch).
  threadsBatch: positiveInt.optional(),
  // Unset: native when the addon is built (npm run build:native), else node-llama-cpp.
  engine: z.enum(ENGINE_BACKENDS).optional(),
  batchSize: positiveInt.default(512),
  flashAttention: z.enum(["auto", "on", "off"]).default("auto"),
  promptCache: z.enum(["on", "off"]).default("on"),
  // Most sequences per request (OpenAI n, TGI best_of); also bounded by --parallel.
  maxN: positiveInt.default(8),
  loras: z.array(z.string()).default([]),
  // Unset: 2 with --lora, else 1 (src/llm/llama-cpp/engine.ts, defaultLoraContexts).
  loraContexts: positiveInt.max(64).optional(),
  contextSize: positiveInt.optional(),
  maxConcurrentRequests: positiveInt.optional(),
  maxQueue: z.coerce.number().int().min(0).optional(),
  maxInputTokens: positiveInt.optional(),
  maxTotalTokens: positiveInt.optional(),
  maxNewTokens: positiveInt.optional(),
  requestTimeoutSeconds: z.coerce.number().min(0).default(60),
  bodyLimitBytes: positiveInt.default(1_048_576),
  // Comma-separated bearer keys; empty = no authentication (like vLLM's --api-key).
  apiKeys: z
    .string()
    .default("")
    .transform((value) =>
      value
        .split(",")
        .map((key) => key.trim())
        .filter((key) => key !== ""),
    ),
  authFailureLimit: z.coerce.number().int().min(0).default(DEFAULT_AUTH_FAILURE_LIMIT.max),
  authFailureWindowMs: positiveInt.default(DEFAULT_AUTH_FAILURE_LIMIT.windowMs),
  headersTimeoutMs: positiveInt.default(DEFAULT_HTTP_TIMEOUTS.headersTimeoutMs),
  receiveTimeoutMs: positiveInt.default(DEFAULT_HTTP_TIMEOUTS.receiveTimeoutMs),
  keepAliveTimeoutMs: positiveInt.default(DEFAULT_HTTP_TIMEOUTS.keepAliveTimeoutMs),
  gracePeriodSeconds: z.coerce.number().min(0).max(29).default(25),
  cacheDir: z.string().min(1).optional(),
  logLevel: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  // Model registry (issue 18): where registry: sources are read, and whether a registry base
  // model brings its production adapters. Default registry: LLM_TWIN_REGISTRY or <cache dir>/registry.
  registry: z.string().min(1).optional(),
  registryAdapters: z.enum(["production", "off"]).default("production"),
  // /v1/embeddings (issue 15 item 3): a GGUF embedding model beside the generation model.
  embeddingModel: z.string().min(1).optional(),
  embeddingMaxInputs: positiveInt.default(64),
  // Unset: the embedding model's context − 1.
  embeddingMaxInputTokens: positiveInt.optional(),
});

export type LlmServerConfig = Omit<z.output<typeof llmServerConfigSchema>, "loras"> & {
  loras: Array<{ name: string; path: string; scale: number }>;
};

/** `<name>=<path.gguf>[:scale]` (scale default 1), as given to --lora or in LLM_TWIN_LORA. */
export function parseLoraSpec(spec: string): { name: string; path: string; scale: number } {
  const match = /^([A-Za-z0-9._-]+)=(.+?)(?::(-?\d+(?:\.\d+)?))?$/.exec(spec.trim());
  if (match === null) {
    throw new AppError(
      "configuration_error",
      `--lora '${spec}': expected <name>=<path.gguf>[:scale], e.g. --lora alice=adapters/alice.gguf:0.8 (LLM_TWIN_LORA: comma-separated)`,
    );
  }
  return { name: match[1] ?? "", path: match[2] ?? "", scale: match[3] === undefined ? 1 : Number(match[3]) };
}

/** Validates raw values (strings from flags/env are coerced); the message names the setting. */
export function parseLlmServerConfig(raw: Record<string, unknown>): LlmServerConfig {
  const cleaned = Object.fromEntries(Object.entries(raw).filter(([, value]) => value !== undefined && value !== ""));
  if (cleaned.model === undefined) {
    const fromSageMaker = sageMakerModelFile();
    if (fromSageMaker === undefined) {
      throw new AppError(
        "configuration_error",
        `No model: give --model (or LLM_TWIN_MODEL) a path, an http(s) URL, an hf: URI or registry:<name>@<version|stage>, or put a .gguf file in ${SAGEMAKER_MODEL_DIRECTORY}`,
      );
    }
    cleaned.model = fromSageMaker;
  }
  const result = llmServerConfigSchema.safeParse(cleaned);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `${flagName(String(issue.path[0] ?? ""))}: ${issue.message}`);
    throw new AppError("configuration_error", `Invalid serve-llm configuration: ${problems.join("; ")}`);
  }
  const config = { ...result.data, loras: result.data.loras.map(parseLoraSpec) };
  const names = new Set<string>();
  for (const lora of config.loras) {
    if (names.has(lora.name))
      throw new AppError("configuration_error", `--lora: the name '${lora.name}' is given twice`);
    names.add(lora.name);
  }
  if (
    config.maxTotalTokens !== undefined &&
    config.maxInputTokens !== undefined &&
    config.maxInputTokens >= config.maxTotalTokens
  ) {
    throw new AppError(
      "configuration_error",
      `--max-input-tokens / LLM_TWIN_MAX_INPUT_TOKENS (${config.maxInputTokens}) must be less than --max-total-tokens / LLM_TWIN_MAX_TOTAL_TOKENS (${config.maxTotalTokens})`,
    );
  }
  return config;
}

function flagName(key: string): string {
  if (key === "model") return "--model (LLM_TWIN_MODEL; or a .gguf file in /opt/ml/model)";
  const kebab = key
    .replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`)
    .replace(/-seconds$/, "")
    .replace(/-bytes$/, "");
  // Every serve-llm flag has the variable LLM_TWIN_<FLAG IN SNAKE CASE> (src/cli/commands/serve-llm.ts).
  const variable = `LLM_TWIN_${kebab.replaceAll("-", "_").toUpperCase()}`;
  return `--${kebab} (${variable}${key === "port" ? " or SAGEMAKER_BIND_TO_PORT" : ""})`;
}

/** The first .gguf file under /opt/ml/model (SageMaker's model directory), if any. */
export function sageMakerModelFile(directory = SAGEMAKER_MODEL_DIRECTORY): string | undefined {
  try {
    const file = readdirSync(directory)
      .filter((name) => name.toLowerCase().endsWith(".gguf"))
      .sort()[0];
    return file === undefined ? undefined : path.join(directory, file);
  } catch {
    return undefined;
  }
}
