/**
 * Token counts of texts, remembered (bounded, least recently used first out): retrieved chunks
 * recur across requests, and counting them with the LLM's tokenizer costs about a microsecond
 * per character. The counts belong to one tokenizer: when `identity` (read at each call) changes,
 * e.g. a registry model reloaded with POST /admin/reload, the remembered counts are dropped.
 */
import type { TokenCounter } from "./steps/context.js";

export type TokenCountCacheOptions = {
  /** Texts remembered; default 2,000. */
  capacity?: number;
  /** What the counts belong to (the serving engine); a different value empties the cache. */
  identity?: () => unknown;
};

export function cachedTokenCounter(count: TokenCounter, options: TokenCountCacheOptions = {}): TokenCounter {
  const { capacity = 2_000, identity } = options;
  const cache = new Map<string, number>();
  let owner = identity?.();
  return (text) => {
    if (identity !== undefined) {
      const current = identity();
      if (current !== owner) {
        cache.clear();
        owner = current;
      }
    }
    const known = cache.get(text);
    if (known !== undefined) {
      cache.delete(text);
      cache.set(text, known);
      return known;
    }
    const tokens = count(text);
    cache.set(text, tokens);
    if (cache.size > capacity) {
      const oldest = cache.keys().next().value;
      if (oldest !== undefined) cache.delete(oldest);
    }
    return tokens;
  };
}
