/**
 * The answer cache through the real RAG app (fakes behind it, the in-memory adapter): paraphrase
 * hits above the threshold and misses below it, author and shape partitioning, `cache: false`,
 * the temperature bypass, streaming hits and misses, failed streams never cached, the OpenAI
 * route, the trace's cache span and the metrics.
 */
import { describe, expect, it } from "vitest";
import { cleanQuery } from "../../src/preprocessing/index.js";
import { answerStream } from "../../src/rag/answer.js";
import { createMemoryAnswerCache } from "../../src/rag/cache/index.js";
import { resolveRagConfig } from "../../src/rag/config.js";
import { buildHarness, parseSse } from "../../src/rag/testing/app-harness.js";
import { fakeEmbedder, fakeLanguageModel, fakeStore, sampleChunks } from "../../src/rag/testing/fakes.js";

const QUESTION = "How do RAG pipelines use vector databases and chunking?";
const PARAPHRASE = "How do the RAG pipelines use vector databases and chunking today?";

async function similarity(left: string, right: string): Promise<number> {
  const [a, b] = await fakeEmbedder().embed([cleanQuery(left), cleanQuery(right)]);
  let sum = 0;
  for (let index = 0; index < (a?.length ?? 0); index++) sum += (a?.[index] ?? 0) * (b?.[index] ?? 0);
  return sum;
}

function metric(text: string, name: string): number {
  const line = text.split("\n").find((item) => item.startsWith(`${name} `) || item.startsWith(`${name}{`));
  return Number(line?.split(" ").at(-1) ?? Number.NaN);
}

async function harness(options: { minSimilarity?: number; maxTemperature?: number; maxEntries?: number } = {}) {
  const cache = createMemoryAnswerCache({ maxEntries: options.maxEntries ?? 100, ttlMs: 60_000 });
  const h = await buildHarness({
    config: { expandQueries: 3 },
    answerCache: {
      cache,
      ...(options.minSimilarity === undefined ? {} : { minSimilarity: options.minSimilarity }),
      ...(options.maxTemperature === undefined ? {} : { maxTemperature: options.maxTemperature }),
    },
  });
  const ask = (payload: Record<string, unknown>) => h.app.inject({ method: "POST", url: "/rag", payload });
  const generations = () =>
    h.llm.requests.filter((request) => request.maxNewTokens !== undefined && "messages" in request).length;
  return { ...h, cache, ask, generations };
}

describe("answer cache over HTTP", () => {
  it("answers a paraphrase above the threshold from the cache, without the LLM, with cached: true", async () => {
    const score = await similarity(QUESTION, PARAPHRASE);
    expect(score).toBeGreaterThan(0.8);
    expect(score).toBeLessThan(0.999);
    const h = await harness({ minSimilarity: score - 0.01 });
    const first = await h.ask({ query: QUESTION });
    expect(first.statusCode).toBe(200);
    expect(first.json().cached).toBeUndefined();
    const llmCalls = h.llm.requests.length;

    const second = await h.ask({ query: PARAPHRASE });
    expect(second.statusCode).toBe(200);
    const body = second.json();
    expect(body.cached).toBe(true);
    expect(body.cacheAgeMs).toBeGreaterThanOrEqual(0);
    expect(body.answer).toBe(first.json().answer);
    expect(body.sources).toEqual(first.json().sources);
    expect(body.usage).toEqual(first.json().usage);
    // Neither generation nor query expansion ran for the hit.
    expect(h.llm.requests.length).toBe(llmCalls);
    expect(second.headers["server-timing"]).toMatch(/^total;dur=\d+(\.\d+)?$/);

    const trace = await h.app.inject({ method: "GET", url: `/traces/${second.headers["x-trace-id"]}` });
    const spans = trace.json<{ spans: { name: string; attributes: Record<string, unknown> }[] }>().spans;
    const cacheSpan = spans.find((span) => span.name === "cache");
    expect(cacheSpan?.attributes).toMatchObject({ outcome: "hit", backend: "memory", threshold: score - 0.01 });
    expect(cacheSpan?.attributes.similarity).toBeCloseTo(score, 4);
    expect(spans.map((span) => span.name)).not.toContain("generation");
    expect(spans.map((span) => span.name)).not.toContain("search");

    const metrics = (await h.app.inject({ method: "GET", url: "/metrics" })).body;
    expect(metric(metrics, "llm_twin_answer_cache_hits_total")).toBe(1);
    expect(metric(metrics, "llm_twin_answer_cache_misses_total")).toBe(1);
    expect(metric(metrics, "llm_twin_answer_cache_errors_total")).toBe(0);
    expect(metric(metrics, "llm_twin_answer_cache_entries")).toBe(1);
  });

  it("misses a paraphrase below the threshold", async () => {
    const score = await similarity(QUESTION, PARAPHRASE);
    const h = await harness({ minSimilarity: score + 0.01 });
    await h.ask({ query: QUESTION });
    const second = await h.ask({ query: PARAPHRASE });
    expect(second.json().cached).toBeUndefined();
    expect(h.generations()).toBe(2);
    const trace = await h.app.inject({ method: "GET", url: `/traces/${second.headers["x-trace-id"]}` });
    const spans = trace.json<{ spans: { name: string; attributes: Record<string, unknown> }[] }>().spans;
    expect(spans.find((span) => span.name === "cache")?.attributes.outcome).toBe("miss");
  });

  it("keeps authors apart, and a different request shape never hits", async () => {
    const h = await harness();
    await h.ask({ query: QUESTION, author: "Paul Iusztin" });
    expect((await h.ask({ query: QUESTION, author: "Paul Iusztin" })).json().cached).toBe(true);
    expect((await h.ask({ query: QUESTION, author: "Maxime Labonne" })).json().cached).toBeUndefined();
    expect((await h.ask({ query: QUESTION, author: "Paul Iusztin", maxNewTokens: 7 })).json().cached).toBeUndefined();
    expect((await h.ask({ query: QUESTION, author: "Paul Iusztin", k: 1 })).json().cached).toBeUndefined();
    const withHistory = { query: QUESTION, author: "Paul Iusztin", history: [{ role: "user", content: "Hi" }] };
    expect((await h.ask(withHistory)).json().cached).toBeUndefined();
    expect((await h.ask(withHistory)).json().cached).toBe(true);
  });

  it("cache: false neither reads nor writes the cache", async () => {
    const h = await harness();
    await h.ask({ query: QUESTION, cache: false });
    expect(await h.cache.size()).toBe(0);
    await h.ask({ query: QUESTION });
    expect((await h.ask({ query: QUESTION, cache: false })).json().cached).toBeUndefined();
    expect(h.generations()).toBe(3);
    const metrics = (await h.app.inject({ method: "GET", url: "/metrics" })).body;
    expect(metrics).toMatch(/llm_twin_answer_cache_bypasses_total\{reason="request"\} 2/);
  });

  it("requests above --cache-max-temperature bypass the cache", async () => {
    const h = await harness({ maxTemperature: 0.3 });
    await h.ask({ query: QUESTION, temperature: 0.7 });
    await h.ask({ query: QUESTION, temperature: 0.7 });
    expect(await h.cache.size()).toBe(0);
    expect(h.generations()).toBe(2);
    await h.ask({ query: QUESTION, temperature: 0.3 });
    expect((await h.ask({ query: QUESTION, temperature: 0.3 })).json().cached).toBe(true);
    const metrics = (await h.app.inject({ method: "GET", url: "/metrics" })).body;
    expect(metrics).toMatch(/llm_twin_answer_cache_bypasses_total\{reason="temperature"\} 2/);
  });

  it("streams a hit as sources, token and done (cached), after a streamed miss was stored", async () => {
    const h = await harness();
    const miss = await h.ask({ query: QUESTION, stream: true });
    const missEvents = parseSse(miss.body);
    expect(missEvents.at(-1)?.event).toBe("done");
    const hit = await h.ask({ query: QUESTION, stream: true });
    const events = parseSse(hit.body);
    expect(events.map((event) => event.event)).toEqual(["sources", "token", "done"]);
    expect(events[0]?.data).toEqual(missEvents[0]?.data);
    const done = events[2]?.data as { answer: string; cached: { ageMs: number; similarity: number } };
    expect(done.answer).toBe("Hello from the twin.");
    expect(done.cached.similarity).toBeCloseTo(1, 5);
    expect(events[1]?.data).toEqual({ text: done.answer });
    expect(h.generations()).toBe(1);
  });

  it("never caches a failed or aborted generation", async () => {
    const h = await harness();
    h.llm.failAfterTokens = 2;
    const failed = await h.ask({ query: QUESTION, stream: true });
    expect(parseSse(failed.body).at(-1)?.event).toBe("error");
    expect((await h.ask({ query: QUESTION })).statusCode).toBeGreaterThanOrEqual(500);
    expect(await h.cache.size()).toBe(0);
    delete h.llm.failAfterTokens;
    expect((await h.ask({ query: QUESTION })).json().cached).toBeUndefined();
    expect((await h.ask({ query: QUESTION })).json().cached).toBe(true);
  });

  it("never caches an answer whose request was aborted mid-stream", async () => {
    const cache = createMemoryAnswerCache({ maxEntries: 10, ttlMs: 60_000 });
    const embedder = fakeEmbedder();
    const llm = fakeLanguageModel();
    llm.tokenDelayMs = 5;
    const deps = {
      store: fakeStore(sampleChunks(), embedder),
      embedder,
      llm,
      config: resolveRagConfig({ expandQueries: 1 }),
      answerCache: { cache, minSimilarity: 0.95, maxTemperature: 0.3 },
    };
    const controller = new AbortController();
    const kinds: string[] = [];
    for await (const part of answerStream({ query: QUESTION }, deps, { signal: controller.signal })) {
      kinds.push(part.type);
      if (part.type === "token") controller.abort();
    }
    expect(kinds).toContain("token");
    expect(kinds).not.toContain("done");
    expect(await cache.size()).toBe(0);
  });

  it("serves /v1/chat/completions from the same cache, and its cache: false bypasses it", async () => {
    const h = await harness();
    const chat = (extra: Record<string, unknown> = {}) =>
      h.app.inject({
        method: "POST",
        url: "/v1/chat/completions",
        payload: { model: "twin", messages: [{ role: "user", content: QUESTION }], ...extra },
      });
    await h.ask({ query: QUESTION });
    const hit = await chat();
    expect(hit.statusCode).toBe(200);
    expect(hit.json()).toMatchObject({ cached: true, choices: [{ message: { content: "Hello from the twin." } }] });
    expect(hit.json().cache_age_ms).toBeGreaterThanOrEqual(0);
    const bypass = await chat({ cache: false });
    expect(bypass.json().cached).toBeUndefined();
    const streamed = await chat({ stream: true });
    expect(streamed.body).toContain('"cached":true');
    expect(streamed.body.trim().endsWith("data: [DONE]")).toBe(true);
    expect(h.generations()).toBe(2);
  });
});
