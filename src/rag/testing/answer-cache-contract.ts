/** The AnswerCache port's contract, run over every adapter (in memory and Redis). */
import { describe, expect, it } from "vitest";
import { type AnswerCache, type CachedAnswer, unitVector } from "../cache/port.js";

export type AnswerCacheFactory = {
  /** A fresh, empty cache (its own key prefix) bounded by `maxEntries` and `ttlMs`. */
  open(options: { maxEntries: number; ttlMs: number }): Promise<AnswerCache>;
  /** Lets `ms` pass for the cache's TTL (a fake clock, or a real wait). */
  elapse(ms: number): Promise<void>;
  /** TTL short enough for `elapse` (a real wait for Redis). */
  shortTtlMs: number;
};

const DIMENSIONS = 16;

/** A unit vector leaning towards axis `axis`, tilted towards axis `axis + 1` by `tilt`. */
export function direction(axis: number, tilt = 0): Float32Array {
  const vector = new Float32Array(DIMENSIONS);
  vector[axis % DIMENSIONS] = 1;
  vector[(axis + 1) % DIMENSIONS] = tilt;
  return unitVector(vector);
}

export function cachedAnswer(answer: string, createdAt = Date.now()): CachedAnswer {
  return {
    answer,
    sources: [
      {
        id: "c1",
        documentId: "d1",
        title: "On RAG",
        link: "https://example.com/rag",
        author: { id: "author-paul", fullName: "Paul Iusztin" },
        category: "articles",
        score: 0.5,
        text: "chunk text",
      },
    ],
    author: { id: "author-paul", fullName: "Paul Iusztin" },
    queries: ["what is rag"],
    finishReason: "eos",
    usage: { promptTokens: 12, completionTokens: 3 },
    historyTurnsUsed: 0,
    question: "what is rag",
    createdAt,
  };
}

export function answerCacheContract(name: string, factory: AnswerCacheFactory): void {
  describe(`answer cache contract: ${name}`, () => {
    it("finds the most similar entry at or above the threshold, and nothing below it", async () => {
      const cache = await factory.open({ maxEntries: 10, ttlMs: 60_000 });
      await cache.store("p", direction(0), cachedAnswer("zero"));
      await cache.store("p", direction(3), cachedAnswer("three"));
      const near = await cache.lookup("p", direction(0, 0.1), 0.95);
      expect(near?.entry.answer).toBe("zero");
      expect(near?.similarity).toBeGreaterThan(0.99);
      expect(near?.entry).toEqual(cachedAnswer("zero", near?.entry.createdAt));
      // cos = 1 / sqrt(1 + 0.5²) ≈ 0.894: below 0.95, above 0.85.
      expect(await cache.lookup("p", direction(3, 0.5), 0.95)).toBeUndefined();
      expect((await cache.lookup("p", direction(3, 0.5), 0.85))?.entry.answer).toBe("three");
      expect(await cache.lookup("p", direction(7), 0.5)).toBeUndefined();
      await cache[Symbol.asyncDispose]();
    });

    it("keeps partitions apart", async () => {
      const cache = await factory.open({ maxEntries: 10, ttlMs: 60_000 });
      await cache.store("author-a", direction(1), cachedAnswer("for a"));
      await cache.store("author-b", direction(1), cachedAnswer("for b"));
      expect((await cache.lookup("author-a", direction(1), 0.95))?.entry.answer).toBe("for a");
      expect((await cache.lookup("author-b", direction(1), 0.95))?.entry.answer).toBe("for b");
      expect(await cache.lookup("author-c", direction(1), 0.95)).toBeUndefined();
      expect(await cache.size()).toBe(2);
      await cache[Symbol.asyncDispose]();
    });

    it("holds at most maxEntries, dropping the oldest unused first", async () => {
      const cache = await factory.open({ maxEntries: 3, ttlMs: 60_000 });
      for (let axis = 0; axis < 5; axis++) await cache.store("p", direction(axis * 2), cachedAnswer(`a${axis}`));
      expect(await cache.size()).toBe(3);
      expect(await cache.lookup("p", direction(0), 0.95)).toBeUndefined();
      expect(await cache.lookup("p", direction(2), 0.95)).toBeUndefined();
      for (const axis of [2, 3, 4]) {
        expect((await cache.lookup("p", direction(axis * 2), 0.95))?.entry.answer).toBe(`a${axis}`);
      }
      await cache[Symbol.asyncDispose]();
    });

    it("forgets entries after their TTL", async () => {
      const cache = await factory.open({ maxEntries: 10, ttlMs: factory.shortTtlMs });
      await cache.store("p", direction(5), cachedAnswer("short-lived"));
      expect((await cache.lookup("p", direction(5), 0.95))?.entry.answer).toBe("short-lived");
      await factory.elapse(factory.shortTtlMs * 2);
      expect(await cache.lookup("p", direction(5), 0.95)).toBeUndefined();
      expect(await cache.size()).toBe(0);
      await cache[Symbol.asyncDispose]();
    });
  });
}
