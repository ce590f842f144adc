/**
 * `npm run bench -- openai-endpoint [--requests N]`
 * What the OpenAI-compatible endpoint adds over /rag for the same request: the RAG app over the
 * in-memory fakes (fake store, embedder and LLM, so the pipeline itself is cheap and the difference
 * is the endpoint's own work: message mapping, chunk framing, usage), driven over real loopback HTTP
 * with fetch, the two routes interleaved. Reports client-side p50/p95 of each and the p50 difference.
 * Target: ≤ 1 ms p50 added.
 */
import type { AddressInfo } from "node:net";
import { performance } from "node:perf_hooks";
import { buildHarness } from "../../src/rag/testing/app-harness.js";

export const name = "openai-endpoint";
export const description = "POST /v1/chat/completions vs POST /rag, same request: p50 latency added";

function percentile(values: readonly number[], fraction: number): number {
  const sorted = [...values].sort((left, right) => left - right);
  return sorted[Math.min(sorted.length - 1, Math.floor(fraction * sorted.length))] ?? Number.NaN;
}

const QUERY = "How do RAG pipelines use vector databases?";

export async function run(args: string[]): Promise<void> {
  const at = args.indexOf("--requests");
  const requests = at === -1 ? 400 : Number(args[at + 1]);
  const harness = await buildHarness({ config: { expandQueries: 1 } });
  try {
    await harness.app.listen({ port: 0, host: "127.0.0.1" });
    const { port } = harness.app.server.address() as AddressInfo;
    const base = `http://127.0.0.1:${port}`;
    const routes = {
      rag: { url: `${base}/rag`, body: { query: QUERY, k: 3 } },
      openai: {
        url: `${base}/v1/chat/completions`,
        body: { model: "twin", messages: [{ role: "user", content: QUERY }] },
      },
    };
    const samples: Record<keyof typeof routes, number[]> = { rag: [], openai: [] };
    const call = async (key: keyof typeof routes) => {
      const started = performance.now();
      const response = await fetch(routes[key].url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(routes[key].body),
      });
      await response.json();
      if (!response.ok) throw new Error(`${key}: HTTP ${response.status}`);
      return performance.now() - started;
    };
    for (let index = 0; index < 50; index += 1) {
      await call("rag");
      await call("openai");
    }
    for (let index = 0; index < requests; index += 1) {
      // Interleaved, alternating which goes first, so drift hits both alike.
      const order: (keyof typeof routes)[] = index % 2 === 0 ? ["rag", "openai"] : ["openai", "rag"];
      for (const key of order) samples[key].push(await call(key));
    }
    const rows = (Object.keys(samples) as (keyof typeof routes)[]).map((key) => ({
      route: key === "rag" ? "POST /rag" : "POST /v1/chat/completions",
      p50Ms: Number(percentile(samples[key], 0.5).toFixed(3)),
      p95Ms: Number(percentile(samples[key], 0.95).toFixed(3)),
    }));
    console.table(rows);
    const added = percentile(samples.openai, 0.5) - percentile(samples.rag, 0.5);
    console.log(`requests per route: ${requests}; OpenAI endpoint adds ${added.toFixed(3)} ms p50 (target ≤ 1 ms)`);
  } finally {
    await harness.app.close();
  }
}
