/**
 * The Redis adapter of the feedback port against a real redis-server: the shared contract, one
 * list shared by two replicas, fail-fast when Redis is down at start, and when Redis dies under a
 * running service, POST/GET /feedback answer 503 `dependency_unavailable` while /rag keeps answering.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AppError } from "../../src/errors/index.js";
import { createFingerprint } from "../../src/preprocessing/index.js";
import { openRedisFeedbackStore } from "../../src/rag/feedback/redis-store.js";
import { runRagService } from "../../src/rag/service/run.js";
import { defaultRagServiceSettings } from "../../src/rag/service/settings.js";
import { buildHarness } from "../../src/rag/testing/app-harness.js";
import { fakeEmbedder, fakeLanguageModel, fakeStore, sampleChunks } from "../../src/rag/testing/fakes.js";
import { feedbackStoreContract } from "../../src/rag/testing/feedback-store-contract.js";
import { freePort } from "../../src/testing/free-port.js";
import { REDIS_MISSING, type RunningRedis, redisServerAvailable, startRedis } from "../queue/redis-server.js";

const hasRedis = redisServerAvailable();
if (!hasRedis) console.warn(REDIS_MISSING);

describe.skipIf(!hasRedis)("feedback in Redis", () => {
  let redis: RunningRedis;
  let count = 0;
  beforeAll(async () => {
    redis = await startRedis();
  }, 30_000);
  afterAll(async () => {
    await redis?.stop();
  });

  feedbackStoreContract("Redis", {
    async open(capacity) {
      const key = `test:feedback:${++count}`;
      const open = () => openRedisFeedbackStore({ url: redis.url, capacity, key });
      return { store: await open(), reopen: open };
    },
  });

  it("is shared by two replicas", async () => {
    const key = "test:feedback:shared";
    const [first, second] = await Promise.all([
      openRedisFeedbackStore({ url: redis.url, capacity: 10, key }),
      openRedisFeedbackStore({ url: redis.url, capacity: 10, key }),
    ]);
    const { app } = await buildHarness({ feedback: { store: first, commentMaxChars: 40 } });
    const answer = await app.inject({ method: "POST", url: "/rag", payload: { query: "What is RAG?" } });
    const traceId = String(answer.headers["x-trace-id"]);
    const posted = await app.inject({ method: "POST", url: "/feedback", payload: { traceId, rating: "down" } });
    expect(posted.statusCode).toBe(201);
    expect((await second.forTrace(traceId)).map((entry) => entry.trace.attributes.query)).toEqual(["What is RAG?"]);
    await app.close();
    await second[Symbol.asyncDispose]();
  });

  it("fails fast with one dependency_unavailable line when Redis is down at start", async () => {
    const url = `redis://127.0.0.1:${await freePort()}`;
    const failure = await openRedisFeedbackStore({ url, capacity: 10, connectTimeoutMs: 2000 }).catch((e) => e);
    expect(failure).toBeInstanceOf(AppError);
    expect(failure.code).toBe("dependency_unavailable");
    expect(failure.message).toMatch(/--feedback-store \(LLM_TWIN_FEEDBACK_STORE\)/);
    expect(failure.message).not.toContain("\n");
  });

  it("answers 503 on /feedback and keeps answering /rag when Redis dies later", async () => {
    const own = await startRedis();
    const store = await openRedisFeedbackStore({ url: own.url, capacity: 10 });
    const { app } = await buildHarness({ feedback: { store, commentMaxChars: 40 } });
    const first = await app.inject({ method: "POST", url: "/rag", payload: { query: "What is RAG?" } });
    await own.stop();
    const traceId = String(first.headers["x-trace-id"]);
    const posted = await app.inject({ method: "POST", url: "/feedback", payload: { traceId, rating: "up" } });
    expect(posted.statusCode).toBe(503);
    expect(posted.json()).toMatchObject({ error: { code: "dependency_unavailable" } });
    const listed = await app.inject({ method: "GET", url: "/feedback" });
    expect(listed.statusCode).toBe(503);
    const again = await app.inject({ method: "POST", url: "/rag", payload: { query: "What is RAG?" } });
    expect(again.statusCode).toBe(200);
    await app.close();
  }, 30_000);

  function serviceWith(feedbackStore: string) {
    const embedder = fakeEmbedder();
    const now = new Date().toISOString();
    const fingerprint = createFingerprint(embedder);
    return runRagService({
      settings: defaultRagServiceSettings({
        port: 0,
        host: "127.0.0.1",
        logLevel: "silent",
        feedbackStore,
        feedbackStoreTimeoutMs: 2000,
      }),
      store: fakeStore(sampleChunks(), embedder, { fingerprint, createdAt: now, updatedAt: now }),
      embedder,
      llm: fakeLanguageModel(),
      disposeResources: async () => {},
    });
  }

  it("is what the service uses with --feedback-store, and the service does not start without it", async () => {
    const service = await serviceWith(redis.url);
    const answer = await fetch(`${service.url}/rag`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ query: "What is RAG?", expandQueries: 1 }),
    });
    const traceId = answer.headers.get("x-trace-id") ?? "";
    await answer.json();
    const posted = await fetch(`${service.url}/feedback`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ traceId, rating: "up" }),
    });
    expect(posted.status).toBe(201);
    await service.close();
    const reader = await openRedisFeedbackStore({ url: redis.url, capacity: 10 });
    expect((await reader.forTrace(traceId)).map((entry) => entry.rating)).toEqual(["up"]);
    await reader[Symbol.asyncDispose]();

    const down = await serviceWith(`redis://127.0.0.1:${await freePort()}`).catch((error) => error);
    expect(down).toMatchObject({ code: "dependency_unavailable" });
  }, 30_000);
});
