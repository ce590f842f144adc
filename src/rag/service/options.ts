import type { z } from "zod";
import { DEFAULT_EMBEDDER_SPEC } from "../../embedding/create.js";
import { AppError } from "../../errors/index.js";
import { DEFAULT_STORE_URI } from "../../vector-store/uri.js";
import { DEFAULT_RAG_CONFIG } from "../config.js";
import { DEFAULT_RAG_HTTP_CONFIG } from "../http/config.js";
import { OBSERVABILITY_OPTIONS } from "./observability-options.js";

export type OptionSpec = { flags: string; env: string; description: string; default?: string; key: string };

const d = DEFAULT_RAG_CONFIG;
const RATE =
  DEFAULT_RAG_HTTP_CONFIG.rateLimit === false ? { max: 0, timeWindowMs: 60_000 } : DEFAULT_RAG_HTTP_CONFIG.rateLimit;

/** Flags shared by `serve-rag` and `serve`. */
export const RAG_SERVICE_OPTIONS: OptionSpec[] = [
  {
    key: "port",
    flags: "--port <port>",
    env: "LLM_TWIN_PORT",
    description: "HTTP port (0 = any free port)",
    default: "3000",
  },
  {
    key: "host",
    flags: "--host <host>",
    env: "LLM_TWIN_HOST",
    description: "interface to listen on",
    default: "127.0.0.1",
  },
  {
    key: "store",
    flags: "--store <uri>",
    env: "LLM_TWIN_STORE",
    description: "vector store: lancedb:<dir> or qdrant:<url>",
    default: DEFAULT_STORE_URI,
  },
  {
    key: "embedder",
    flags: "--embedder <spec>",
    env: "LLM_TWIN_EMBEDDER",
    description:
      "embedder: auto (the default GGUF model, downloaded once; the store's own embedder, or static where it cannot be downloaded), static, gguf:<path|url|hf:...|registry:<name>@<version|stage>> or openai:<base-url>[#model] (an OpenAI-compatible /embeddings API, e.g. serve-llm --embedding-model; key in LLM_TWIN_EMBEDDER_API_KEY) (must match the store)",
    default: DEFAULT_EMBEDDER_SPEC,
  },
  {
    key: "reranker",
    flags: "--reranker <gguf>",
    env: "LLM_TWIN_RERANKER",
    description: "GGUF reranker (path, URL, hf: or registry:<name>@<version|stage>); default: reciprocal-rank fusion",
  },
  {
    key: "retrievalMode",
    flags: "--retrieval-mode <mode>",
    env: "LLM_TWIN_RETRIEVAL_MODE",
    description: "dense | lexical | hybrid",
    default: d.retrievalMode,
  },
  {
    key: "promptTemplate",
    flags: "--prompt-template <template>",
    env: "LLM_TWIN_PROMPT_TEMPLATE",
    description: "chat (the model's chat template) | alpaca | <file with {query} and {context}>",
    default: "chat",
  },
  { key: "k", flags: "--k <n>", env: "LLM_TWIN_K", description: "sources kept after reranking", default: String(d.k) },
  {
    key: "maxK",
    flags: "--max-k <n>",
    env: "LLM_TWIN_MAX_K",
    description: "largest k a request may ask for",
    default: String(d.maxK),
  },
  {
    key: "expandQueries",
    flags: "--expand-queries <n>",
    env: "LLM_TWIN_EXPAND_QUERIES",
    description: "queries after expansion, the original included (1 = off)",
    default: String(d.expandQueries),
  },
  {
    key: "selfQuery",
    flags: "--self-query <mode>",
    env: "LLM_TWIN_SELF_QUERY",
    description: "match | llm | off",
    default: d.selfQuery,
  },
  {
    key: "categories",
    flags: "--categories <list>",
    env: "LLM_TWIN_CATEGORIES",
    description: "categories searched by default (comma-separated)",
    default: d.categories.join(","),
  },
  {
    key: "searchLimit",
    flags: "--search-limit <n>",
    env: "LLM_TWIN_SEARCH_LIMIT",
    description: "hits per (query, category) search",
    default: String(d.searchLimit),
  },
  {
    key: "hybridFusion",
    flags: "--hybrid-fusion <method>",
    env: "LLM_TWIN_HYBRID_FUSION",
    description:
      "hybrid fusion: agreement (scores, dense weight scaled by how much the two lists agree) or rrf (reciprocal ranks)",
    default: String(d.hybridFusion),
  },
  {
    key: "hybridDenseWeight",
    flags: "--hybrid-dense-weight <w>",
    env: "LLM_TWIN_HYBRID_DENSE_WEIGHT",
    description: "weight of the dense list in hybrid search (0..1; with agreement fusion, its maximum)",
    default: String(d.hybridDenseWeight),
  },
  {
    key: "titleWeight",
    flags: "--title-weight <w>",
    env: "LLM_TWIN_TITLE_WEIGHT",
    description: "weight of query words found in a hit's title, added to its score (0 = off)",
    default: String(d.titleWeight),
  },
  {
    key: "rrfK",
    flags: "--rrf-k <k>",
    env: "LLM_TWIN_RRF_K",
    description: "reciprocal-rank fusion constant",
    default: String(d.rrfK),
  },
  {
    key: "rerankCandidates",
    flags: "--rerank-candidates <n>",
    env: "LLM_TWIN_RERANK_CANDIDATES",
    description: "candidates scored by the GGUF reranker",
    default: String(d.rerankCandidates),
  },
  {
    key: "rerankerFailure",
    flags: "--reranker-failure <mode>",
    env: "LLM_TWIN_RERANKER_FAILURE",
    description:
      "when the reranker fails or passes --reranker-timeout-ms: fallback (keep the fusion order, timings.rerank = fallback) | fail (the request fails)",
    default: "fallback",
  },
  {
    key: "contextTokens",
    flags: "--context-tokens <n>",
    env: "LLM_TWIN_CONTEXT_TOKENS",
    description: "token budget of the retrieved context in the prompt",
    default: String(d.contextTokenBudget),
  },
  {
    key: "maxNewTokens",
    flags: "--max-new-tokens <n>",
    env: "LLM_TWIN_MAX_NEW_TOKENS",
    description: "default new tokens per answer",
    default: String(d.maxNewTokens),
  },
  {
    key: "maxNewTokensLimit",
    flags: "--max-new-tokens-limit <n>",
    env: "LLM_TWIN_MAX_NEW_TOKENS_LIMIT",
    description: "largest maxNewTokens a request may ask for",
    default: String(d.maxNewTokensLimit),
  },
  {
    key: "temperature",
    flags: "--temperature <t>",
    env: "LLM_TWIN_TEMPERATURE",
    description: "default sampling temperature",
    default: String(d.temperature),
  },
  {
    key: "maxQueryChars",
    flags: "--max-query-chars <n>",
    env: "LLM_TWIN_MAX_QUERY_CHARS",
    description: "longest query (422 input_too_long beyond)",
    default: String(d.maxQueryChars),
  },
  {
    key: "maxHistoryTurns",
    flags: "--max-history-turns <n>",
    env: "LLM_TWIN_MAX_HISTORY_TURNS",
    description: "most earlier turns a request may send in history (422 beyond)",
    default: String(d.maxHistoryTurns),
  },
  {
    key: "maxHistoryChars",
    flags: "--max-history-chars <n>",
    env: "LLM_TWIN_MAX_HISTORY_CHARS",
    description: "most characters of all history turns together (422 input_too_long beyond)",
    default: String(d.maxHistoryChars),
  },
  {
    key: "condenseMaxNewTokens",
    flags: "--condense-max-new-tokens <n>",
    env: "LLM_TWIN_CONDENSE_MAX_NEW_TOKENS",
    description: "new tokens for the condensing call (follow-up + history → standalone question)",
    default: String(d.condenseMaxNewTokens),
  },
  {
    key: "condenseMinWordShare",
    flags: "--condense-min-word-share <x>",
    env: "LLM_TWIN_CONDENSE_MIN_WORD_SHARE",
    description:
      "least share (0-1) of word tokens in a condensed question, else the raw question is searched; 0 = no check",
    default: String(d.condenseMinWordShare),
  },
  {
    key: "condenseMinOverlap",
    flags: "--condense-min-overlap <x>",
    env: "LLM_TWIN_CONDENSE_MIN_OVERLAP",
    description:
      "least share (0-1) of a condensed question's content words found in the follow-up or history, else the raw question is searched; 0 = no check",
    default: String(d.condenseMinOverlap),
  },
  {
    key: "historyTokens",
    flags: "--history-tokens <n>",
    env: "LLM_TWIN_HISTORY_TOKENS",
    description: "token budget of earlier turns in the generation prompt (after the context; oldest dropped first)",
    default: String(d.historyTokenBudget),
  },
  {
    key: "bodyLimit",
    flags: "--body-limit <bytes>",
    env: "LLM_TWIN_BODY_LIMIT",
    description: "largest request body (413 beyond)",
    default: String(DEFAULT_RAG_HTTP_CONFIG.bodyLimitBytes),
  },
  {
    key: "apiKeys",
    flags: "--api-keys <keys>",
    env: "LLM_TWIN_API_KEYS",
    description: "comma-separated bearer keys; empty = no authentication",
    default: "",
  },
  {
    key: "rateLimit",
    flags: "--rate-limit <n>",
    env: "LLM_TWIN_RATE_LIMIT",
    description: "requests per key (or IP) per window; 0 = unlimited",
    default: String(RATE.max),
  },
  {
    key: "rateLimitWindowMs",
    flags: "--rate-limit-window-ms <ms>",
    env: "LLM_TWIN_RATE_LIMIT_WINDOW_MS",
    description: "rate-limit window",
    default: String(RATE.timeWindowMs),
  },
  {
    key: "maxGenerations",
    flags: "--max-generations <n>",
    env: "LLM_TWIN_MAX_GENERATIONS",
    description:
      "/rag requests in flight before 429 overloaded (refused before any retrieval); auto = serve: the model's --parallel + queue, serve-rag: 8 (serve-llm's default limit)",
    default: "auto",
  },
  {
    key: "authFailureLimit",
    flags: "--auth-failure-limit <n>",
    env: "LLM_TWIN_AUTH_FAILURE_LIMIT",
    description: "failed API-key checks per client address per window before 429; 0 = unlimited",
    default: String(DEFAULT_RAG_HTTP_CONFIG.authFailureLimit.max),
  },
  {
    key: "authFailureWindowMs",
    flags: "--auth-failure-window-ms <ms>",
    env: "LLM_TWIN_AUTH_FAILURE_WINDOW_MS",
    description: "window of --auth-failure-limit",
    default: String(DEFAULT_RAG_HTTP_CONFIG.authFailureLimit.windowMs),
  },
  {
    key: "headersTimeoutMs",
    flags: "--headers-timeout-ms <ms>",
    env: "LLM_TWIN_HEADERS_TIMEOUT_MS",
    description: "time a client has to send the request headers (408 beyond)",
    default: String(DEFAULT_RAG_HTTP_CONFIG.timeouts.headersTimeoutMs),
  },
  {
    key: "receiveTimeoutMs",
    flags: "--receive-timeout-ms <ms>",
    env: "LLM_TWIN_RECEIVE_TIMEOUT_MS",
    description: "time a client has to send the whole request, body included (408 beyond)",
    default: String(DEFAULT_RAG_HTTP_CONFIG.timeouts.receiveTimeoutMs),
  },
  {
    key: "keepAliveTimeoutMs",
    flags: "--keep-alive-timeout-ms <ms>",
    env: "LLM_TWIN_KEEP_ALIVE_TIMEOUT_MS",
    description: "how long an idle keep-alive connection stays open",
    default: String(DEFAULT_RAG_HTTP_CONFIG.timeouts.keepAliveTimeoutMs),
  },
  {
    key: "llmTimeoutMs",
    flags: "--llm-timeout-ms <ms>",
    env: "LLM_TWIN_LLM_TIMEOUT_MS",
    description: "deadline of each LLM call (whole generation)",
    default: String(d.llmTimeoutMs),
  },
  {
    key: "embedderTimeoutMs",
    flags: "--embedder-timeout-ms <ms>",
    env: "LLM_TWIN_EMBEDDER_TIMEOUT_MS",
    description: "deadline of the embedding call",
    default: String(d.embedderTimeoutMs),
  },
  // HTTP embedder (--embedder openai:...), issue 15 item 3.
  {
    key: "embedderRequestTimeoutMs",
    flags: "--embedder-request-timeout-ms <ms>",
    env: "LLM_TWIN_EMBEDDER_REQUEST_TIMEOUT_MS",
    description: "HTTP embedder (openai:): timeout of each HTTP attempt",
    default: "30000",
  },
  {
    key: "embedderRetries",
    flags: "--embedder-retries <n>",
    env: "LLM_TWIN_EMBEDDER_RETRIES",
    description: "HTTP embedder (openai:): retries after a network failure, timeout, 429 or 5xx",
    default: "2",
  },
  {
    key: "storeTimeoutMs",
    flags: "--store-timeout-ms <ms>",
    env: "LLM_TWIN_STORE_TIMEOUT_MS",
    description: "deadline of store calls",
    default: String(d.storeTimeoutMs),
  },
  {
    key: "rerankerTimeoutMs",
    flags: "--reranker-timeout-ms <ms>",
    env: "LLM_TWIN_RERANKER_TIMEOUT_MS",
    description: "deadline of the rerank call",
    default: String(d.rerankerTimeoutMs),
  },
  {
    key: "readyTimeoutMs",
    flags: "--ready-timeout-ms <ms>",
    env: "LLM_TWIN_READY_TIMEOUT_MS",
    description: "deadline of each /ready check",
    default: "2000",
  },
  // The answer cache (src/rag/cache, docs/rag-service.md "Answer cache").
  {
    key: "cache",
    flags: "--cache <backend>",
    env: "LLM_TWIN_CACHE",
    description:
      "answer cache: memory | off | redis://host:port[/db] (shared by replicas; when Redis is down the service answers without it)",
    default: "memory",
  },
  {
    key: "cacheSimilarity",
    flags: "--cache-similarity <s>",
    env: "LLM_TWIN_CACHE_SIMILARITY",
    description: "cosine similarity of the standalone questions' embeddings a cache hit needs (0..1)",
    default: "0.95",
  },
  {
    key: "cacheMaxEntries",
    flags: "--cache-max-entries <n>",
    env: "LLM_TWIN_CACHE_MAX_ENTRIES",
    description: "answers kept (memory: least recently used go first; Redis: oldest go first)",
    default: "1000",
  },
  {
    key: "cacheTtlSeconds",
    flags: "--cache-ttl-seconds <s>",
    env: "LLM_TWIN_CACHE_TTL_SECONDS",
    description: "how long a cached answer lives",
    default: "3600",
  },
  {
    key: "cacheMaxTemperature",
    flags: "--cache-max-temperature <t>",
    env: "LLM_TWIN_CACHE_MAX_TEMPERATURE",
    description: "requests sampling above this temperature bypass the cache",
    default: "0.3",
  },
  {
    key: "cacheTimeoutMs",
    flags: "--cache-timeout-ms <ms>",
    env: "LLM_TWIN_CACHE_TIMEOUT_MS",
    description: "Redis cache: connection and per-command deadline (past it the request goes on without the cache)",
    default: "500",
  },
  ...OBSERVABILITY_OPTIONS,
  {
    key: "logLevel",
    flags: "--log-level <level>",
    env: "LLM_TWIN_LOG_LEVEL",
    description: "fatal | error | warn | info | debug | trace | silent",
    default: "info",
  },
  {
    key: "cacheDir",
    flags: "--cache-dir <dir>",
    env: "LLM_TWIN_CACHE_DIR",
    description: "cache for word vectors and models (default ~/.cache/llm-twin)",
  },
  // Model registry and adapter routing (issue 18).
  {
    key: "registry",
    flags: "--registry <dir|s3://bucket/prefix>",
    env: "LLM_TWIN_REGISTRY",
    description:
      "model registry that registry:<name>@<version|stage> sources are read from (--model, --embedder gguf:registry:..., --reranker registry:...) (default <cache dir>/registry)",
  },
  {
    key: "adapterRouting",
    flags: "--adapter-routing <mode>",
    env: "LLM_TWIN_ADAPTER_ROUTING",
    description:
      "on | off: generate each answer with the LoRA adapter of the author self-query resolved (the LLM's adapters and their authors: serve-llm's /v1/models, or the in-process model); off = always the base model",
    default: "on",
  },
  {
    key: "adapterRefreshMs",
    flags: "--adapter-refresh-ms <ms>",
    env: "LLM_TWIN_ADAPTER_REFRESH_MS",
    description: "serve-rag: how often the LLM service's adapter list (/v1/models) is read again",
    default: "5000",
  },
];

/** Validates raw option values (strings from commander) against `specs`, naming flag and variable on failure. */
export function parseSettings<T extends z.ZodTypeAny>(
  schema: T,
  raw: Record<string, unknown>,
  specs: readonly OptionSpec[],
): z.infer<T> {
  const cleaned = Object.fromEntries(Object.entries(raw).filter(([, value]) => value !== undefined && value !== ""));
  const result = schema.safeParse(cleaned);
  if (result.success) return result.data;
  const lines = result.error.issues.map((issue) => {
    const key = String(issue.path[0] ?? "");
    const spec = specs.find((candidate) => candidate.key === key);
    const name = spec === undefined ? key : `${spec.flags.split(" ")[0]} (${spec.env})`;
    return `${name}: ${issue.message}${raw[key] === undefined ? "" : ` (got ${JSON.stringify(raw[key])})`}`;
  });
  throw new AppError("configuration_error", `invalid configuration:\n  ${lines.join("\n  ")}`);
}
