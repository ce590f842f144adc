/** The answer cache (issue 16 item 6): port, adapters, key, policy and metrics. */
import { createMemoryAnswerCache } from "./memory-cache.js";
import type { AnswerCache } from "./port.js";
import type { RedisAnswerCacheOptions } from "./redis-cache.js";

export { ANSWER_CACHE_KEY_VERSION, partitionKey, requestShape, storeVersion } from "./key.js";
export { createMemoryAnswerCache, type MemoryAnswerCacheOptions } from "./memory-cache.js";
export { type AnswerCacheMetrics, createAnswerCacheMetrics } from "./metrics.js";
export { type AnswerCachePolicy, type CacheProbe, type CacheSession, openCacheSession } from "./policy.js";
export { type AnswerCache, type CachedAnswer, type CacheHit, unitVector } from "./port.js";
export type { RedisAnswerCacheOptions } from "./redis-cache.js";

/** The Redis adapter (./redis-cache.ts), loaded on first use: ioredis stays out of a start-up without Redis. */
export async function openRedisAnswerCache(options: RedisAnswerCacheOptions): Promise<AnswerCache> {
  return (await import("./redis-cache.js")).openRedisAnswerCache(options);
}

export type AnswerCacheSettings = {
  /** "memory", "off" or a redis:// / rediss:// URL (--cache). */
  cache: string;
  maxEntries: number;
  ttlSeconds: number;
  timeoutMs: number;
  log?: (message: string) => void;
};

/** The cache --cache names, or undefined for "off". */
export async function openAnswerCache(settings: AnswerCacheSettings): Promise<AnswerCache | undefined> {
  if (settings.cache === "off") return undefined;
  const ttlMs = settings.ttlSeconds * 1000;
  if (settings.cache === "memory") return createMemoryAnswerCache({ maxEntries: settings.maxEntries, ttlMs });
  return openRedisAnswerCache({
    url: settings.cache,
    maxEntries: settings.maxEntries,
    ttlMs,
    timeoutMs: settings.timeoutMs,
    ...(settings.log === undefined ? {} : { log: settings.log }),
  });
}
