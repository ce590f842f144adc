/**
 * The answer cache as the answer pipeline uses it: whether a request may use it (not with
 * `cache: false`, not above --cache-max-temperature), the lookup once the standalone question, its
 * author and its embedding are known (before any search or generation), and the store of a
 * completed answer. A failing cache (Redis away) is counted and skipped: it never fails a request.
 */
import type { Author } from "../../domain/index.js";
import type { ActiveTrace } from "../../observability/tracing/index.js";
import type { ResolvedRagRequest } from "../request.js";
import type { RagDependencies } from "../retrieve.js";
import { partitionKey, requestShape, storeVersion } from "./key.js";
import type { AnswerCacheMetrics } from "./metrics.js";
import { type AnswerCache, type CachedAnswer, type CacheHit, unitVector } from "./port.js";

export type AnswerCachePolicy = {
  cache: AnswerCache;
  /** Cosine similarity a hit needs (--cache-similarity). */
  minSimilarity: number;
  /** Requests with a higher temperature bypass the cache (--cache-max-temperature). */
  maxTemperature: number;
  metrics?: AnswerCacheMetrics;
};

export type CacheProbe = { question: string; author: Author | undefined; vector: Float32Array };

/** One request's use of the cache: `lookup` during retrieval, then `save` after a complete answer. */
export type CacheSession = {
  lookup(probe: CacheProbe): Promise<CacheHit | undefined>;
  save(answer: Omit<CachedAnswer, "createdAt" | "question">): Promise<void>;
};

export function openCacheSession(
  request: ResolvedRagRequest,
  deps: RagDependencies,
  trace: ActiveTrace,
): CacheSession | undefined {
  const policy = deps.answerCache;
  if (policy === undefined) return undefined;
  const bypass = !request.cache ? "request" : request.temperature > policy.maxTemperature ? "temperature" : undefined;
  if (bypass !== undefined) {
    policy.metrics?.bypasses.inc({ reason: bypass });
    trace.setAttributes({ cache: "bypass", cacheBypass: bypass });
    return undefined;
  }
  let pending: { partition: string; vector: Float32Array; question: string } | undefined;
  const failed = () => policy.metrics?.errors.inc();
  return {
    async lookup(probe) {
      const span = trace.startSpan("cache", {
        backend: policy.cache.kind,
        threshold: policy.minSimilarity,
        authorId: probe.author?.id ?? null,
      });
      try {
        const version = await storeVersion(deps.store);
        const partition = partitionKey({
          authorId: probe.author?.id,
          storeVersion: version,
          shape: requestShape(request, deps),
        });
        const vector = unitVector(probe.vector);
        pending = { partition, vector, question: probe.question };
        const hit = await policy.cache.lookup(partition, vector, policy.minSimilarity);
        if (hit === undefined) policy.metrics?.misses.inc();
        else policy.metrics?.hits.inc();
        span.setAttributes({
          outcome: hit === undefined ? "miss" : "hit",
          similarity: hit?.similarity ?? null,
          storeVersion: version,
          partition,
          ...(hit === undefined ? {} : { ageMs: Date.now() - hit.entry.createdAt, cachedQuestion: hit.entry.question }),
        });
        trace.setAttributes({ cache: hit === undefined ? "miss" : "hit" });
        span.end();
        return hit;
      } catch (error) {
        failed();
        pending = undefined;
        span.setAttributes({ outcome: "error" });
        trace.setAttributes({ cache: "error" });
        span.end(error);
        return undefined;
      }
    },
    async save(answer) {
      if (pending === undefined || answer.answer === "") return;
      try {
        await policy.cache.store(pending.partition, pending.vector, {
          ...answer,
          question: pending.question,
          createdAt: Date.now(),
        });
      } catch {
        failed();
      }
    },
  };
}
