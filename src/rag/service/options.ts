/**
 * The RAG service's settings (`serve-rag` and `serve`) in the configuration registry
 * (src/config/settings.ts): flag, variable, zod type, default and help of each. Their values are
 * parsed and turned into configurations in ./settings.ts.
 */
import { z } from "zod";
import type { Setting } from "../../config/settings.js";
import { DATA_CATEGORIES } from "../../domain/types.js";
import { DEFAULT_EMBEDDER_SPEC } from "../../embedding/create.js";
import { HTTP_EMBEDDER_SETTINGS } from "../../embedding/http/settings.js";
import { HYBRID_FUSIONS } from "../../vector-store/fusion.js";
import { DEFAULT_STORE_URI } from "../../vector-store/uri.js";
import { DEFAULT_RAG_CONFIG, type RagConfig } from "../config.js";
import { ANSWER_CACHE_OPTIONS } from "./cache-options.js";
import { HTTP_EDGE_OPTIONS } from "./http-options.js";
import { integer, milliseconds, OBSERVABILITY_OPTIONS } from "./observability-options.js";

const d = DEFAULT_RAG_CONFIG;

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
    help: "embedder: auto (the default GGUF model, downloaded once; the store's own embedder, or static where it cannot be downloaded), static, gguf:<path|url|hf:...|registry:<name>@<version|stage>> or openai:<base-url>[#model] (an OpenAI-compatible /embeddings API, e.g. serve-llm --embedding-model; key in LLM_TWIN_EMBEDDER_API_KEY) (must match the store)",
    default: DEFAULT_EMBEDDER_SPEC,
  },
  {
    key: "reranker",
    flag: "--reranker <gguf>",
    env: "LLM_TWIN_RERANKER",
    schema: z.string().min(1).optional(),
    help: "GGUF reranker (path, URL, hf: or registry:<name>@<version|stage>); unset: reciprocal-rank fusion",
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
    key: "condenseMinWordShare",
    flag: "--condense-min-word-share <x>",
    env: "LLM_TWIN_CONDENSE_MIN_WORD_SHARE",
    schema: z.coerce.number().min(0).max(1),
    help: "least share (0-1) of word tokens in a condensed question, else the raw question is searched; 0 = no check",
    default: String(d.condenseMinWordShare),
  },
  {
    key: "condenseMinOverlap",
    flag: "--condense-min-overlap <x>",
    env: "LLM_TWIN_CONDENSE_MIN_OVERLAP",
    schema: z.coerce.number().min(0).max(1),
    help: "least share (0-1) of a condensed question's content words found in the follow-up or history, else the raw question is searched; 0 = no check",
    default: String(d.condenseMinOverlap),
  },
  {
    key: "historyTokens",
    flag: "--history-tokens <n>",
    env: "LLM_TWIN_HISTORY_TOKENS",
    schema: integer(0),
    help: "token budget of earlier turns in the generation prompt (after the context; oldest dropped first)",
    default: String(d.historyTokenBudget),
  },
  ...HTTP_EDGE_OPTIONS,
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
  // HTTP embedder (--embedder openai:...), issue 15 item 3.
  ...HTTP_EMBEDDER_SETTINGS,
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
  ...ANSWER_CACHE_OPTIONS,
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
  // Model registry and adapter routing (issue 18).
  {
    key: "registry",
    flag: "--registry <dir|s3://bucket/prefix>",
    env: "LLM_TWIN_REGISTRY",
    schema: z.string().min(1).optional(),
    help: "model registry that registry:<name>@<version|stage> sources are read from (--model, --embedder gguf:registry:..., --reranker registry:...)",
    defaultText: "<cache dir>/registry",
  },
  {
    key: "adapterRouting",
    flag: "--adapter-routing <mode>",
    env: "LLM_TWIN_ADAPTER_ROUTING",
    schema: z.enum(["on", "off"]),
    help: "on | off: generate each answer with the LoRA adapter of the author self-query resolved (the LLM's adapters and their authors: serve-llm's /v1/models, or the in-process model); off = always the base model",
    default: "on",
  },
  {
    key: "adapterRefreshMs",
    flag: "--adapter-refresh-ms <ms>",
    env: "LLM_TWIN_ADAPTER_REFRESH_MS",
    schema: milliseconds,
    help: "serve-rag: how often the LLM service's adapter list (/v1/models) is read again",
    default: "5000",
  },
] as const satisfies readonly Setting[];
