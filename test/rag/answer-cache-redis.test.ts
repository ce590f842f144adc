/**
 * The Redis adapter of the answer cache against a real redis-server: the shared contract, sharing
 * between two replicas, and Redis down — at start and killed mid-run — where the service keeps
 * answering without the cache (errors counted, one log line per outage) and uses it again once
 * Redis is back.
 */
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openRedisAnswerCache } from "../../src/rag/cache/redis-cache.js";
import { answerCacheContract, cachedAnswer, direction } from "../../src/rag/testing/answer-cache-contract.js";
import { buildHarness } from "../../src/rag/testing/app-harness.js";
import { freePort } from "../../src/testing/free-port.js";
import { REDIS_MISSING, type RunningRedis, redisServerAvailable, startRedis } from "../queue/redis-server.js";

const hasRedis = redisServerAvailable();
if (!hasRedis) console.warn(REDIS_MISSING);

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function until(check: () => Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

function metricValue(text: string, name: string): number {
  const line = text.split("\n").find((item) => item.startsWith(`${name} `));
  return Number(line?.split(" ")[1] ?? Number.NaN);
}

describe.skipIf(!hasRedis)("answer cache in Redis", () => {
  let redis: RunningRedis;
  let count = 0;
  beforeAll(async () => {
    redis = await startRedis();
  }, 30_000);
  afterAll(async () => {
    await redis?.stop();
  });

  answerCacheContract("Redis", {
    open: (options) =>
      openRedisAnswerCache({ url: redis.url, timeoutMs: 2000, prefix: `test:cache:${++count}`, ...options }),
    elapse: (ms) => sleep(ms),
    shortTtlMs: 300,
  });

  it("is shared by two replicas", async () => {
    const options = { url: redis.url, timeoutMs: 2000, prefix: "test:cache:shared", maxEntries: 10, ttlMs: 60_000 };
    const [first, second] = await Promise.all([openRedisAnswerCache(options), openRedisAnswerCache(options)]);
    await first.store("p", direction(2), cachedAnswer("shared"));
    expect((await second.lookup("p", direction(2, 0.05), 0.95))?.entry.answer).toBe("shared");
    // The second replica's mirror of the partition follows later stores of the first.
    await first.store("p", direction(6), cachedAnswer("later"));
    expect((await second.lookup("p", direction(6), 0.95))?.entry.answer).toBe("later");
    await first[Symbol.asyncDispose]();
    await second[Symbol.asyncDispose]();
  });

  it("keeps a replica's mirror in step with another's evictions, and across a log reset", async () => {
    const options = { url: redis.url, timeoutMs: 2000, prefix: "test:cache:mirror", maxEntries: 3, ttlMs: 60_000 };
    const [writer, reader] = await Promise.all([openRedisAnswerCache(options), openRedisAnswerCache(options)]);
    for (const axis of [0, 2, 4]) await writer.store("p", direction(axis), cachedAnswer(`a${axis}`));
    expect((await reader.lookup("p", direction(0), 0.95))?.entry.answer).toBe("a0");
    await writer.store("p", direction(6), cachedAnswer("a6"));
    // a0 was evicted: the reader's mirror applied "-a0" (and "+a6") from the log.
    expect(await reader.lookup("p", direction(0), 0.95)).toBeUndefined();
    expect((await reader.lookup("p", direction(6), 0.95))?.entry.answer).toBe("a6");
    // 3 × 4 + 64 = 76 log items at most: many more stores reset the log under a new epoch.
    for (let index = 0; index < 90; index++) {
      await writer.store("p", direction(index % 16, 1 + index), cachedAnswer(`b${index}`));
    }
    const last = await reader.lookup("p", direction(89 % 16, 90), 0.9999);
    expect(last?.entry.answer).toBe("b89");
    expect(await reader.size()).toBe(3);
    const raw = new Redis(redis.url);
    expect(await raw.get("test:cache:mirror:r:p")).toMatch(/^[0-9a-f-]{36}$/);
    expect(await raw.llen("test:cache:mirror:l:p")).toBeLessThanOrEqual(76);
    raw.disconnect();
    await writer[Symbol.asyncDispose]();
    await reader[Symbol.asyncDispose]();
  });

  it("Redis down at start: one log line, the service answers without the cache, then uses it once Redis is up", async () => {
    const port = await freePort();
    const lines: string[] = [];
    const cache = await openRedisAnswerCache({
      url: `redis://127.0.0.1:${port}`,
      timeoutMs: 300,
      maxEntries: 10,
      ttlMs: 60_000,
      prefix: "test:cache:down",
      log: (line) => lines.push(line),
    });
    const { app, llm } = await buildHarness({ answerCache: { cache } });
    const ask = () => app.inject({ method: "POST", url: "/rag", payload: { query: "What is RAG?" } });
    for (let attempt = 0; attempt < 2; attempt++) {
      const response = await ask();
      expect(response.statusCode).toBe(200);
      expect(response.json().cached).toBeUndefined();
    }
    expect(llm.requests).toHaveLength(2);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /answer cache: Redis at redis:\/\/127\.0\.0\.1:\d+ is unreachable .*--cache, LLM_TWIN_CACHE/,
    );
    const metrics = (await app.inject({ method: "GET", url: "/metrics" })).body;
    expect(metricValue(metrics, "llm_twin_answer_cache_errors_total")).toBeGreaterThanOrEqual(2);

    const late = await startRedis(port);
    try {
      await until(async () => {
        await cache.size();
        return true;
      }, "the cache to reconnect");
      expect(lines.at(-1)).toMatch(/is back/);
      await ask();
      const hit = await ask();
      expect(hit.json().cached).toBe(true);
    } finally {
      await app.close();
      await cache[Symbol.asyncDispose]();
      await late.stop();
    }
  }, 30_000);

  it("Redis killed mid-run: requests still answer (errors counted), and the cache works again when it is back", async () => {
    const own = await startRedis();
    const lines: string[] = [];
    const cache = await openRedisAnswerCache({
      url: own.url,
      timeoutMs: 300,
      maxEntries: 10,
      ttlMs: 60_000,
      log: (line) => lines.push(line),
    });
    const { app, llm } = await buildHarness({ answerCache: { cache } });
    const ask = () => app.inject({ method: "POST", url: "/rag", payload: { query: "What is RAG?" } });
    let back: RunningRedis | undefined;
    try {
      await ask();
      expect((await ask()).json().cached).toBe(true);
      expect(llm.requests).toHaveLength(1);

      await own.stop();
      for (let attempt = 0; attempt < 2; attempt++) {
        const response = await ask();
        expect(response.statusCode).toBe(200);
        expect(response.json().cached).toBeUndefined();
      }
      expect(llm.requests).toHaveLength(3);
      expect(lines.filter((line) => /unreachable/.test(line))).toHaveLength(1);
      const metrics = (await app.inject({ method: "GET", url: "/metrics" })).body;
      expect(metricValue(metrics, "llm_twin_answer_cache_errors_total")).toBeGreaterThanOrEqual(2);

      back = await startRedis(own.port);
      await until(async () => {
        await cache.size();
        return true;
      }, "the cache to reconnect");
      await ask();
      expect((await ask()).json().cached).toBe(true);
    } finally {
      await app.close();
      await cache[Symbol.asyncDispose]();
      await back?.stop();
    }
  }, 30_000);
});
