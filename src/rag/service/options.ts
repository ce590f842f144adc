/**
 * The RAG service's settings (`serve-rag` and `serve`) in the configuration registry
 * (src/config/settings.ts): flag, variable, zod type, default and help of each. Their values are
 * parsed and turned into configurations in ./settings.ts.
 */
import { z } from "zod";
import type { Setting } from "../../config/settings.js";
import { DATA_CATEGORIES } from "../../domain/types.js";
import { DEFAULT_EMBEDDER_SPEC } from "../../embedding/create.js";
import { HYBRID_FUSIONS } from "../../vector-store/fusion.js";
import { DEFAULT_STORE_URI } from "../../vector-store/uri.js";
import { DEFAULT_RAG_CONFIG, type RagConfig } from "../config.js";
import { DEFAULT_RAG_HTTP_CONFIG } from "../http/config.js";
import { integer, milliseconds, OBSERVABILITY_OPTIONS } from "./observability-options.js";

const d = DEFAULT_RAG_CONFIG;
const RATE =
  DEFAULT_RAG_HTTP_CONFIG.rateLimit === false ? { max: 0, timeWindowMs: 60_000 } : DEFAULT_RAG_HTTP_CONFIG.rateLimit;

/** Flags shared by `serve-rag` and `serve`. */
export const RAG_SERVICE_OPTIONS = [
  {
    key: "port",
    flag: "--port <port>",
    env: "LLM_TWIN_PORT",
    schema: integer(0).max(65535),
    help: "HTTP port (0 = any free port)",
    default: "3000",
  },
  {
    key: "host",
    flag: "--host <host>",
    env: "LLM_TWIN_HOST",
    schema: z.string().min(1),
    help: "interface to listen on",
    default: "127.0.0.1",
  },
  {
    key: "store",
    flag: "--store <uri>",
    env: "LLM_TWIN_STORE",
    schema: z.string().min(1),
    help: "vector store: lancedb:<dir> or qdrant:<url>",
    default: DEFAULT_STORE_URI,
  },
  {
    key: "embedder",
    flag: "--embedder <spec>",
    env: "LLM_TWIN_EMBEDDER",
    schema: z.string().min(1),
    help: "embedder: auto (the default GGUF model, downloaded once; the store's own embedder, or static where it cannot be downloaded), static or gguf:<path|url|hf:...> (must match the store)",
    default: DEFAULT_EMBEDDER_SPEC,
  },
  {
    key: "reranker",
    flag: "--reranker <gguf>",
    env: "LLM_TWIN_RERANKER",
    schema: z.string().min(1).optional(),
    help: "GGUF reranker (path, URL or hf:); unset: reciprocal-rank fusion",
  },
  {
    key: "retrievalMode",
    flag: "--retrieval-mode <mode>",
    env: "LLM_TWIN_RETRIEVAL_MODE",
    schema: z.enum(["dense", "lexical", "hybrid"]),
    help: "dense | lexical | hybrid",
    default: d.retrievalMode,
  },
  {
    key: "promptTemplate",
    flag: "--prompt-template <template>",
    env: "LLM_TWIN_PROMPT_TEMPLATE",
    schema: z.string().min(1),
    help: "chat (the model's chat template) | alpaca | <file with {query} and {context}>",
    default: "chat",
  },
  {
    key: "k",
    flag: "--k <n>",
    env: "LLM_TWIN_K",
    schema: integer(1),
    help: "sources kept after reranking",
    default: String(d.k),
  },
  {
    key: "maxK",
    flag: "--max-k <n>",
    env: "LLM_TWIN_MAX_K",
    schema: integer(1),
    help: "largest k a request may ask for",
    default: String(d.maxK),
  },
  {
    key: "expandQueries",
    flag: "--expand-queries <n>",
    env: "LLM_TWIN_EXPAND_QUERIES",
    schema: integer(1),
    help: "queries after expansion, the original included (1 = off)",
    default: String(d.expandQueries),
  },
  {
    key: "selfQuery",
    flag: "--self-query <mode>",
    env: "LLM_TWIN_SELF_QUERY",
    schema: z.enum(["match", "llm", "off"]),
    help: "match | llm | off",
    default: d.selfQuery,
  },
  {
    key: "categories",
    flag: "--categories <list>",
    env: "LLM_TWIN_CATEGORIES",
    schema: z.string().transform((value, context) => {
      const list = value
        .split(",")
        .map((item) => item.trim())
        .filter((item) => item !== "");
      const unknown = list.filter((item) => !(DATA_CATEGORIES as readonly string[]).includes(item));
      if (list.length === 0 || unknown.length > 0) {
        context.addIssue({
          code: "custom",
          message: `expected a comma-separated list of ${DATA_CATEGORIES.join(", ")}`,
        });
        return z.NEVER;
      }
      return list as RagConfig["categories"];
    }),
    help: "categories searched by default (comma-separated)",
    default: d.categories.join(","),
  },
  {
    key: "searchLimit",
    flag: "--search-limit <n>",
    env: "LLM_TWIN_SEARCH_LIMIT",
    schema: integer(1),
    help: "hits per (query, category) search",
    default: String(d.searchLimit),
  },
  {
    key: "hybridFusion",
    flag: "--hybrid-fusion <method>",
    env: "LLM_TWIN_HYBRID_FUSION",
    schema: z.enum(HYBRID_FUSIONS),
    help: "hybrid fusion: agreement (scores, dense weight scaled by how much the two lists agree) or rrf (reciprocal ranks)",
    default: String(d.hybridFusion),
  },
  {
    key: "hybridDenseWeight",
    flag: "--hybrid-dense-weight <w>",
    env: "LLM_TWIN_HYBRID_DENSE_WEIGHT",
    schema: z.coerce.number().min(0).max(1),
    help: "weight of the dense list in hybrid search (0..1; with agreement fusion, its maximum)",
    default: String(d.hybridDenseWeight),
  },
  {
    key: "titleWeight",
    flag: "--title-weight <w>",
    env: "LLM_TWIN_TITLE_WEIGHT",
    schema: z.coerce.number().min(0),
    help: "weight of query words found in a hit's title, added to its score (0 = off)",
    default: String(d.titleWeight),
  },
  {
    key: "rrfK",
    flag: "--rrf-k <k>",
    env: "LLM_TWIN_RRF_K",
    schema: z.coerce.number().min(0),
    help: "reciprocal-rank fusion constant",
    default: String(d.rrfK),
  },
  {
    key: "rerankCandidates",
    flag: "--rerank-candidates <n>",
    env: "LLM_TWIN_RERANK_CANDIDATES",
    schema: integer(1),
    help: "candidates scored by the GGUF reranker",
    default: String(d.rerankCandidates),
  },
  {
    key: "rerankerFailure",
    flag: "--reranker-failure <mode>",
    env: "LLM_TWIN_RERANKER_FAILURE",
    schema: z.enum(["fallback", "fail"]),
    help: "when the reranker fails or passes --reranker-timeout-ms: fallback (keep the fusion order, timings.rerank = fallback) | fail (the request fails)",
    default: "fallback",
  },
  {
    key: "contextTokens",
    flag: "--context-tokens <n>",
    env: "LLM_TWIN_CONTEXT_TOKENS",
    schema: integer(1),
    help: "token budget of the retrieved context in the prompt",
    default: String(d.contextTokenBudget),
  },
  {
    key: "maxNewTokens",
    flag: "--max-new-tokens <n>",
    env: "LLM_TWIN_MAX_NEW_TOKENS",
    schema: integer(1),
    help: "default new tokens per answer",
    default: String(d.maxNewTokens),
  },
  {
    key: "maxNewTokensLimit",
    flag: "--max-new-tokens-limit <n>",
    env: "LLM_TWIN_MAX_NEW_TOKENS_LIMIT",
    schema: integer(1),
    help: "largest maxNewTokens a request may ask for",
    default: String(d.maxNewTokensLimit),
  },
  {
    key: "temperature",
    flag: "--temperature <t>",
    env: "LLM_TWIN_TEMPERATURE",
    schema: z.coerce.number().min(0).max(2),
    help: "default sampling temperature",
    default: String(d.temperature),
  },
  {
    key: "maxQueryChars",
    flag: "--max-query-chars <n>",
    env: "LLM_TWIN_MAX_QUERY_CHARS",
    schema: integer(1),
    help: "longest query (422 input_too_long beyond)",
    default: String(d.maxQueryChars),
  },
  {
    key: "maxHistoryTurns",
    flag: "--max-history-turns <n>",
    env: "LLM_TWIN_MAX_HISTORY_TURNS",
    schema: integer(0),
    help: "most earlier turns a request may send in history (422 beyond)",
    default: String(d.maxHistoryTurns),
  },
  {
    key: "maxHistoryChars",
    flag: "--max-history-chars <n>",
    env: "LLM_TWIN_MAX_HISTORY_CHARS",
    schema: integer(1),
    help: "most characters of all history turns together (422 input_too_long beyond)",
    default: String(d.maxHistoryChars),
  },
  {
    key: "condenseMaxNewTokens",
    flag: "--condense-max-new-tokens <n>",
    env: "LLM_TWIN_CONDENSE_MAX_NEW_TOKENS",
    schema: integer(1),
    help: "new tokens for the condensing call (follow-up + history → standalone question)",
    default: String(d.condenseMaxNewTokens),
  },
  {
    key: "historyTokens",
    flag: "--history-tokens <n>",
    env: "LLM_TWIN_HISTORY_TOKENS",
    schema: integer(0),
    help: "token budget of earlier turns in the generation prompt (after the context; oldest dropped first)",
    default: String(d.historyTokenBudget),
  },
  {
    key: "bodyLimit",
    flag: "--body-limit <bytes>",
    env: "LLM_TWIN_BODY_LIMIT",
    schema: integer(1024),
    help: "largest request body (413 beyond)",
    default: String(DEFAULT_RAG_HTTP_CONFIG.bodyLimitBytes),
  },
  {
    key: "apiKeys",
    flag: "--api-keys <keys>",
    env: "LLM_TWIN_API_KEYS",
    schema: z.string().default(""),
    help: "comma-separated bearer keys; empty = no authentication",
    default: "",
  },
  {
    key: "rateLimit",
    flag: "--rate-limit <n>",
    env: "LLM_TWIN_RATE_LIMIT",
    schema: integer(0),
    help: "requests per key (or IP) per window; 0 = unlimited",
    default: String(RATE.max),
  },
  {
    key: "rateLimitWindowMs",
    flag: "--rate-limit-window-ms <ms>",
    env: "LLM_TWIN_RATE_LIMIT_WINDOW_MS",
    schema: milliseconds,
    help: "rate-limit window",
    default: String(RATE.timeWindowMs),
  },
  {
    key: "maxGenerations",
    flag: "--max-generations <n>",
    env: "LLM_TWIN_MAX_GENERATIONS",
    schema: z.union([z.literal("auto"), integer(1)]),
    help: "/rag requests in flight before 429 overloaded (refused before any retrieval); auto = serve: the model's --parallel + queue, serve-rag: 8 (serve-llm's default limit)",
    default: "auto",
  },
  {
    key: "authFailureLimit",
    flag: "--auth-failure-limit <n>",
    env: "LLM_TWIN_AUTH_FAILURE_LIMIT",
    schema: integer(0),
    help: "failed API-key checks per client address per window before 429; 0 = unlimited",
    default: String(DEFAULT_RAG_HTTP_CONFIG.authFailureLimit.max),
  },
  {
    key: "authFailureWindowMs",
    flag: "--auth-failure-window-ms <ms>",
    env: "LLM_TWIN_AUTH_FAILURE_WINDOW_MS",
    schema: milliseconds,
    help: "window of --auth-failure-limit",
    default: String(DEFAULT_RAG_HTTP_CONFIG.authFailureLimit.windowMs),
  },
  {
    key: "headersTimeoutMs",
    flag: "--headers-timeout-ms <ms>",
    env: "LLM_TWIN_HEADERS_TIMEOUT_MS",
    schema: milliseconds,
    help: "time a client has to send the request headers (408 beyond)",
    default: String(DEFAULT_RAG_HTTP_CONFIG.timeouts.headersTimeoutMs),
  },
  {
    key: "receiveTimeoutMs",
    flag: "--receive-timeout-ms <ms>",
    env: "LLM_TWIN_RECEIVE_TIMEOUT_MS",
    schema: milliseconds,
    help: "time a client has to send the whole request, body included (408 beyond)",
    default: String(DEFAULT_RAG_HTTP_CONFIG.timeouts.receiveTimeoutMs),
  },
  {
    key: "keepAliveTimeoutMs",
    flag: "--keep-alive-timeout-ms <ms>",
    env: "LLM_TWIN_KEEP_ALIVE_TIMEOUT_MS",
    schema: milliseconds,
    help: "how long an idle keep-alive connection stays open",
    default: String(DEFAULT_RAG_HTTP_CONFIG.timeouts.keepAliveTimeoutMs),
  },
  {
    key: "llmTimeoutMs",
    flag: "--llm-timeout-ms <ms>",
    env: "LLM_TWIN_LLM_TIMEOUT_MS",
    schema: milliseconds,
    help: "deadline of each LLM call (whole generation)",
    default: String(d.llmTimeoutMs),
  },
  {
    key: "embedderTimeoutMs",
    flag: "--embedder-timeout-ms <ms>",
    env: "LLM_TWIN_EMBEDDER_TIMEOUT_MS",
    schema: milliseconds,
    help: "deadline of the embedding call",
    default: String(d.embedderTimeoutMs),
  },
  {
    key: "storeTimeoutMs",
    flag: "--store-timeout-ms <ms>",
    env: "LLM_TWIN_STORE_TIMEOUT_MS",
    schema: milliseconds,
    help: "deadline of store calls",
    default: String(d.storeTimeoutMs),
  },
  {
    key: "rerankerTimeoutMs",
    flag: "--reranker-timeout-ms <ms>",
    env: "LLM_TWIN_RERANKER_TIMEOUT_MS",
    schema: milliseconds,
    help: "deadline of the rerank call",
    default: String(d.rerankerTimeoutMs),
  },
  {
    key: "readyTimeoutMs",
    flag: "--ready-timeout-ms <ms>",
    env: "LLM_TWIN_READY_TIMEOUT_MS",
    schema: milliseconds,
    help: "deadline of each /ready check",
    default: "2000",
  },
  ...OBSERVABILITY_OPTIONS,
  {
    key: "logLevel",
    flag: "--log-level <level>",
    env: "LLM_TWIN_LOG_LEVEL",
    schema: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]),
    help: "fatal | error | warn | info | debug | trace | silent",
    default: "info",
  },
  {
    key: "cacheDir",
    flag: "--cache-dir <dir>",
    env: "LLM_TWIN_CACHE_DIR",
    schema: z.string().min(1).optional(),
    help: "cache for word vectors and models",
    defaultText: "~/.cache/llm-twin",
  },
] as const satisfies readonly Setting[];
