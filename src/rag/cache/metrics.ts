/** The answer cache in /metrics: hits, misses, errors, bypasses and the entries held. */
import { Counter, Gauge, type Registry } from "prom-client";
import type { AnswerCache } from "./port.js";

export type AnswerCacheMetrics = {
  hits: Counter;
  misses: Counter;
  errors: Counter;
  bypasses: Counter<"reason">;
};

export function createAnswerCacheMetrics(registry: Registry, cache: AnswerCache): AnswerCacheMetrics {
  const registers = [registry];
  new Gauge({
    name: "llm_twin_answer_cache_entries",
    help: "Answers held by the answer cache (--cache)",
    registers,
    async collect() {
      try {
        this.set(await cache.size());
      } catch {
        // Redis away: the errors counter tells; the gauge keeps its last value.
      }
    },
  });
  return {
    hits: new Counter({ name: "llm_twin_answer_cache_hits_total", help: "Answers served from the cache", registers }),
    misses: new Counter({
      name: "llm_twin_answer_cache_misses_total",
      help: "Cacheable requests that found no similar enough answer (then generated and stored)",
      registers,
    }),
    errors: new Counter({
      name: "llm_twin_answer_cache_errors_total",
      help: "Cache lookups or stores that failed (e.g. Redis unreachable); the request was answered without the cache",
      registers,
    }),
    bypasses: new Counter({
      name: "llm_twin_answer_cache_bypasses_total",
      help: "Requests that skipped the cache: reason=request (cache: false) or temperature (above --cache-max-temperature)",
      labelNames: ["reason"],
      registers,
    }),
  };
}
