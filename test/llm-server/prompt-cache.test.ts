/**
 * Prompt (prefix) caching over HTTP: a repeated prefix is served from a sequence's cache and
 * counted in /metrics; `cache_prompt: false` (TGI parameters, OpenAI body) and `promptCache: false`
 * (--prompt-cache off) decode everything; greedy output is the same either way.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { metricValue, startTestService, type TestService } from "./helpers.js";

const PREFIX = `Context: ${"the twin writes about retrieval and serving ".repeat(12)}`;

type Generated = { generated_text: string; details: { tokens: Array<{ id: number }> } };

async function generate(service: TestService, inputs: string, extra: Record<string, unknown> = {}) {
  const response = await service.app.inject({
    method: "POST",
    url: "/generate",
    payload: { inputs, parameters: { max_new_tokens: 12, ignore_eos: true, details: true, ...extra } },
  });
  expect(response.statusCode).toBe(200);
  return (response.json() as Generated).details.tokens.map((token) => token.id);
}

async function cachedTotal(service: TestService): Promise<number> {
  const response = await service.app.inject({ method: "GET", url: "/metrics" });
  return metricValue(response.body, "llm_twin_prompt_tokens_cached_total");
}

describe("prompt cache (on by default)", () => {
  let service: TestService;
  beforeAll(async () => {
    service = await startTestService();
  });
  afterAll(async () => {
    await service?.close();
  });

  it("serves a repeated prefix from the cache, counts it in /metrics, and keeps greedy output identical", async () => {
    expect(service.holder.require().info.promptCache).toBe(true);
    const uncached = await generate(service, `${PREFIX} Query: A`, { cache_prompt: false });
    const before = await cachedTotal(service);
    const cached = await generate(service, `${PREFIX} Query: A`);
    const served = (await cachedTotal(service)) - before;
    expect(served).toBeGreaterThan(PREFIX.split(" ").length);
    expect(cached).toEqual(uncached);
    // cache_prompt: false is counted as nothing served from the cache.
    const after = await cachedTotal(service);
    await generate(service, `${PREFIX} Query: A`, { cache_prompt: false });
    expect(await cachedTotal(service)).toBe(after);
  });

  it("accepts cache_prompt in OpenAI bodies", async () => {
    const before = await cachedTotal(service);
    const response = await service.app.inject({
      method: "POST",
      url: "/v1/completions",
      payload: { prompt: `${PREFIX} Query: B`, max_tokens: 4, cache_prompt: false },
    });
    expect(response.statusCode).toBe(200);
    expect(await cachedTotal(service)).toBe(before);
    const invalid = await service.app.inject({
      method: "POST",
      url: "/v1/completions",
      payload: { prompt: "x", max_tokens: 1, cache_prompt: "no" },
    });
    expect(invalid.statusCode).toBe(422);
  });
});

describe("prompt cache off (--prompt-cache off)", () => {
  let service: TestService;
  beforeAll(async () => {
    service = await startTestService({ promptCache: false });
  });
  afterAll(async () => {
    await service?.close();
  });

  it("never serves prompt tokens from a cache", async () => {
    expect(service.holder.require().info.promptCache).toBe(false);
    await generate(service, `${PREFIX} Query: A`);
    await generate(service, `${PREFIX} Query: A`);
    expect(await cachedTotal(service)).toBe(0);
  });
});
