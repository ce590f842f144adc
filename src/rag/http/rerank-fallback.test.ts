/**
 * A reranker that fails or times out costs ranking, not the answer: the fusion order is kept,
 * `timings.rerank` says "fallback", the trace and the metrics record it; `--reranker-failure fail`
 * makes the request fail instead.
 */
import { afterEach, describe, expect, it } from "vitest";
import type { Reranker } from "../rerank/port.js";
import { buildHarness, type Harness } from "../testing/app-harness.js";
import type { RagResponse } from "../types.js";

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.app.close();
  harness = undefined;
});

const QUERY = { query: "How do RAG pipelines use vector databases?", k: 3 };

function reranker(behaviour: "throw" | "hang" | "reverse"): Reranker {
  return {
    id: `fake-${behaviour}`,
    async score(_query, documents, options) {
      if (behaviour === "throw") throw new Error("ranking context crashed");
      if (behaviour === "hang") {
        await new Promise((_resolve, reject) =>
          options?.signal?.addEventListener("abort", () => reject(options.signal?.reason), { once: true }),
        );
      }
      return documents.map((_document, index) => index);
    },
    async [Symbol.asyncDispose]() {},
  };
}

async function fusionOrder(): Promise<string[]> {
  const plain = await buildHarness();
  const response = await plain.app.inject({ method: "POST", url: "/retrieve", payload: QUERY });
  await plain.app.close();
  return response.json<RagResponse>().sources.map((source) => source.id);
}

describe("reranker failures", () => {
  it.each(["throw", "hang"] as const)("a reranker that %s falls back to the fusion order", async (behaviour) => {
    const expected = await fusionOrder();
    harness = await buildHarness({ reranker: reranker(behaviour), config: { rerankerTimeoutMs: 50 } });
    for (const url of ["/retrieve", "/rag"]) {
      const response = await harness.app.inject({ method: "POST", url, payload: QUERY });
      expect(response.statusCode).toBe(200);
      const body = response.json<RagResponse>();
      expect(body.timings.rerank).toBe("fallback");
      expect(body.sources.map((source) => source.id)).toEqual(expected);
      const trace = await harness.app.inject({ method: "GET", url: `/traces/${response.headers["x-trace-id"]}` });
      const spans = trace.json<{ spans: { name: string; attributes: Record<string, unknown> }[] }>().spans;
      expect(spans.find((span) => span.name === "rerank")?.attributes).toMatchObject({
        rerank: "fallback",
        rerankError: behaviour === "hang" ? "timeout" : expect.any(String),
      });
    }
    const metrics = await harness.app.inject({ method: "GET", url: "/metrics" });
    expect(metrics.body).toMatch(/llm_twin_rag_rerank_fallbacks_total 2/);
  });

  it("a working reranker says so and reorders", async () => {
    harness = await buildHarness({ reranker: reranker("reverse") });
    const response = await harness.app.inject({ method: "POST", url: "/retrieve", payload: QUERY });
    const body = response.json<RagResponse>();
    expect(body.timings.rerank).toBe("model");
  });

  it("with --reranker-failure fail the request fails", async () => {
    harness = await buildHarness({
      reranker: reranker("hang"),
      config: { rerankerTimeoutMs: 50, rerankerFailure: "fail" },
    });
    const response = await harness.app.inject({ method: "POST", url: "/retrieve", payload: QUERY });
    expect(response.statusCode).toBe(504);
    expect(response.json().error.code).toBe("timeout");
  });

  it("without a reranker, timings carry no rerank field", async () => {
    harness = await buildHarness();
    const response = await harness.app.inject({ method: "POST", url: "/retrieve", payload: QUERY });
    expect(response.json<RagResponse>().timings.rerank).toBeUndefined();
  });
});
