/**
 * Token counts of texts, remembered (bounded, least recently used first out): retrieved chunks
 * recur across requests, and counting them with the LLM's tokenizer costs about a microsecond
 * per character.
 */
import type { TokenCounter } from "./steps/context.js";

export function cachedTokenCounter(count: TokenCounter, capacity = 2_000): TokenCounter {
  const cache = new Map<string, number>();
  return (text) => {
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
