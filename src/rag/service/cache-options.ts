import { z } from "zod";
import type { Setting } from "../../config/settings.js";
import { integer, milliseconds } from "./observability-options.js";

/** The answer cache's flags (src/rag/cache, docs/rag-service.md "Answer cache"); part of `RAG_SERVICE_OPTIONS`. */
export const ANSWER_CACHE_OPTIONS = [
  {
    key: "cache",
    flag: "--cache <backend>",
    env: "LLM_TWIN_CACHE",
    schema: z.string().regex(/^(memory|off|rediss?:\/\/\S+)$/, "must be memory, off or a redis:// / rediss:// URL"),
    help: "answer cache: memory | off | redis://host:port[/db] (shared by replicas; when Redis is down the service answers without it)",
    default: "memory",
  },
  {
    key: "cacheSimilarity",
    flag: "--cache-similarity <s>",
    env: "LLM_TWIN_CACHE_SIMILARITY",
    schema: z.coerce.number().min(0).max(1),
    help: "cosine similarity of the standalone questions' embeddings a cache hit needs (0..1)",
    default: "0.95",
  },
  {
    key: "cacheMaxEntries",
    flag: "--cache-max-entries <n>",
    env: "LLM_TWIN_CACHE_MAX_ENTRIES",
    schema: integer(1),
    help: "answers kept (memory: least recently used go first; Redis: oldest go first)",
    default: "1000",
  },
  {
    key: "cacheTtlSeconds",
    flag: "--cache-ttl-seconds <s>",
    env: "LLM_TWIN_CACHE_TTL_SECONDS",
    schema: z.coerce.number().positive(),
    help: "how long a cached answer lives",
    default: "3600",
  },
  {
    key: "cacheMaxTemperature",
    flag: "--cache-max-temperature <t>",
    env: "LLM_TWIN_CACHE_MAX_TEMPERATURE",
    schema: z.coerce.number().min(0).max(2),
    help: "requests sampling above this temperature bypass the cache",
    default: "0.3",
  },
  {
    key: "cacheTimeoutMs",
    flag: "--cache-timeout-ms <ms>",
    env: "LLM_TWIN_CACHE_TIMEOUT_MS",
    schema: milliseconds,
    help: "Redis cache: connection and per-command deadline (past it the request goes on without the cache)",
    default: "500",
  },
] as const satisfies readonly Setting[];
