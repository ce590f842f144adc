import { describe, expect, it } from "vitest";
import { answerCacheContract, cachedAnswer, direction } from "../testing/answer-cache-contract.js";
import { createMemoryAnswerCache } from "./memory-cache.js";
import { unitVector } from "./port.js";

let clock = 1_000_000;
answerCacheContract("memory", {
  open: async (options) => createMemoryAnswerCache({ ...options, now: () => clock }),
  elapse: async (ms) => {
    clock += ms;
  },
  shortTtlMs: 1000,
});

answerCacheContract("memory (JavaScript kernel)", {
  open: async (options) => createMemoryAnswerCache({ ...options, now: () => clock, kernel: "javascript" }),
  elapse: async (ms) => {
    clock += ms;
  },
  shortTtlMs: 1000,
});

describe("memory answer cache", () => {
  it("evicts the least recently used entry: a hit keeps an old entry", async () => {
    const cache = createMemoryAnswerCache({ maxEntries: 2, ttlMs: 60_000 });
    await cache.store("p", direction(0), cachedAnswer("first"));
    await cache.store("q", direction(2), cachedAnswer("second"));
    expect((await cache.lookup("p", direction(0), 0.95))?.entry.answer).toBe("first");
    await cache.store("p", direction(4), cachedAnswer("third"));
    expect((await cache.lookup("p", direction(0), 0.95))?.entry.answer).toBe("first");
    expect(await cache.lookup("q", direction(2), 0.95)).toBeUndefined();
    expect(await cache.size()).toBe(2);
  });

  it("grows a partition past its first matrix and still finds every entry after removals", async () => {
    const dimensions = 384;
    const random = (seed: number) => {
      let state = seed;
      return unitVector(
        Float32Array.from({ length: dimensions }, () => {
          state = (state * 1103515245 + 12345) % 2147483648;
          return state / 2147483648 - 0.5;
        }),
      );
    };
    const cache = createMemoryAnswerCache({ maxEntries: 150, ttlMs: 60_000 });
    for (let index = 0; index < 200; index++) await cache.store("p", random(index + 1), cachedAnswer(`n${index}`));
    expect(await cache.size()).toBe(150);
    for (const index of [0, 49]) expect(await cache.lookup("p", random(index + 1), 0.99)).toBeUndefined();
    for (const index of [50, 120, 199]) {
      const hit = await cache.lookup("p", random(index + 1), 0.99);
      expect(hit?.entry.answer).toBe(`n${index}`);
      expect(hit?.similarity).toBeCloseTo(1, 4);
    }
  });
});
