/**
 * `npm run bench -- answer-cache [--hits N] [--entries 10000] [--dimensions 100,384] [--no-redis] [--no-service]`
 * The answer cache (src/rag/cache):
 *   1. service: the RAG service over the real LLM Twin corpus (static embedder, LanceDB, a tiny
 *      generated GGUF in-process, default flags: --cache memory), over real HTTP. Each query is
 *      asked once (a miss: generated and stored), then `--hits` times (hits). Reports the
 *      service-side duration (the response's `timings.totalMs`, also sent as Server-Timing) and the
 *      client-side latency of hits, beside the misses. Target: hit ≤ 5 ms p50 service-side.
 *   2. lookup: one partition of `--entries` random unit vectors; p50/p95 of a lookup (a full scan:
 *      a miss), in memory with the WebAssembly SIMD kernel and with the JavaScript loop, and on a
 *      real redis-server (spawned here when installed). Target: ≤ 1 ms in memory at 10,000 entries.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { tinyModelPath } from "../../src/gguf/index.js";
import { createLlamaCppLanguageModel } from "../../src/llm/llama-cpp/index.js";
import {
  type AnswerCache,
  type CachedAnswer,
  createMemoryAnswerCache,
  openRedisAnswerCache,
  unitVector,
} from "../../src/rag/cache/index.js";
import { inProcessPromptLimit, runRagService } from "../../src/rag/service/run.js";
import { defaultRagServiceSettings } from "../../src/rag/service/settings.js";
import type { RagResponse } from "../../src/rag/types.js";
import { SHARED_DATASETS_MISSING, sharedDatasetPath } from "../../src/testing/shared-datasets.js";
import { redisServerAvailable, startRedis } from "../../test/queue/redis-server.js";
import { disposeAll, ingestArticles, option, percentile, RAG_BENCH_QUERIES } from "../support/rag-bench.js";

export const name = "answer-cache";
export const description =
  "answer cache: hit latency through the RAG service, lookup at 10,000 entries (memory, Redis)";

const fixed = (value: number) => (Number.isNaN(value) ? "-" : value < 10 ? value.toFixed(3) : value.toFixed(1));
const cell = (values: readonly number[]) => `${fixed(percentile(values, 0.5))} / ${fixed(percentile(values, 0.95))}`;

async function serviceHits(hits: number): Promise<string[]> {
  const articles = sharedDatasetPath("llm-twin", "articles.json");
  if (articles === undefined) return [`service: ${SHARED_DATASETS_MISSING}`];
  process.env.LANCEDB_LOG ??= "error";
  const directory = await mkdtemp(join(tmpdir(), "llm-twin-bench-cache-"));
  try {
    const { storeUri, store, embedder } = await ingestArticles(directory, articles);
    const llm = await createLlamaCppLanguageModel({
      modelPath: await tinyModelPath("chat"),
      threads: 1,
      parallel: 2,
      maxQueue: 16,
    });
    const service = await runRagService({
      settings: defaultRagServiceSettings({ port: 0, store: storeUri, logLevel: "silent", rateLimit: 0 }),
      store,
      embedder,
      llm,
      ...inProcessPromptLimit(llm.engine),
      disposeResources: async () => {
        await disposeAll(llm, store, embedder);
      },
    });
    const ask = async (query: string) => {
      const sent = performance.now();
      const response = await fetch(`${service.url}/rag`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ query, maxNewTokens: 16 }),
      });
      const body = (await response.json()) as RagResponse;
      if (!response.ok) throw new Error(`/rag answered ${response.status}: ${JSON.stringify(body)}`);
      return { body, clientMs: performance.now() - sent, traceId: response.headers.get("x-trace-id") ?? "" };
    };
    const miss = { service: [] as number[], client: [] as number[] };
    const hit = { service: [] as number[], client: [] as number[], traces: [] as string[] };
    let unexpected = 0;
    for (const query of RAG_BENCH_QUERIES) {
      const first = await ask(query);
      if (first.body.cached === true) unexpected++;
      miss.service.push(first.body.timings.totalMs);
      miss.client.push(first.clientMs);
      for (let index = 0; index < hits; index++) {
        const again = await ask(query);
        if (again.body.cached !== true) unexpected++;
        hit.service.push(again.body.timings.totalMs);
        hit.client.push(again.clientMs);
        hit.traces.push(again.traceId);
      }
    }
    // Where a hit's time goes: its trace's spans (self-query, the question's embedding, the cache step).
    const spans = new Map<string, number[]>();
    for (const traceId of hit.traces) {
      const trace = (await (await fetch(`${service.url}/traces/${traceId}`)).json()) as {
        spans: { name: string; durationMs: number }[];
      };
      for (const span of trace.spans) spans.set(span.name, [...(spans.get(span.name) ?? []), span.durationMs]);
    }
    await service.close();
    return [
      `service (LLM Twin corpus, static embedder, LanceDB, tiny GGUF, maxNewTokens 16, expandQueries 3; ${RAG_BENCH_QUERIES.length} queries × ${hits} hits${unexpected > 0 ? `; ${unexpected} unexpected hit/miss outcomes` : ""}):`,
      "",
      "| | service-side (timings.totalMs) | client-side (HTTP) |",
      "|---|---|---|",
      `| hit | ${cell(hit.service)} | ${cell(hit.client)} |`,
      `| miss (generated) | ${cell(miss.service)} | ${cell(miss.client)} |`,
      "",
      `hit p50 service-side ${fixed(percentile(hit.service, 0.5))} ms (target ≤ 5 ms)`,
      `hit spans, p50 / p95 ms: ${[...spans].map(([span, values]) => `${span} ${cell(values)}`).join("; ")}`,
    ];
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
}

function randomUnit(dimensions: number, random: () => number): Float32Array {
  return unitVector(Float32Array.from({ length: dimensions }, () => random() - 0.5));
}

function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 4294967296;
  };
}

const ENTRY: CachedAnswer = {
  answer: "a cached answer of a few words",
  sources: [],
  author: null,
  queries: ["question"],
  finishReason: "eos",
  usage: { promptTokens: 100, completionTokens: 16 },
  historyTurnsUsed: 0,
  question: "question",
  createdAt: 0,
};

/** Lookup times; `afterStore`: each lookup follows a store (a Redis replica then re-reads the partition). */
async function lookups(
  cache: AnswerCache,
  entries: number,
  dimensions: number,
  samples: number,
  afterStore = false,
): Promise<number[]> {
  const random = seeded(dimensions);
  for (let index = 0; index < entries; index++) await cache.store("p", randomUnit(dimensions, random), ENTRY);
  const times: number[] = [];
  for (let index = 0; index < samples + 20; index++) {
    if (afterStore) await cache.store("p", randomUnit(dimensions, random), ENTRY);
    const query = randomUnit(dimensions, random);
    const started = performance.now();
    await cache.lookup("p", query, 0.95);
    if (index >= 20) times.push(performance.now() - started);
  }
  await cache[Symbol.asyncDispose]();
  return times;
}

async function lookupTable(entries: number, dimensionsList: number[], withRedis: boolean): Promise<string[]> {
  const rows = ["| backend | dimensions | entries | lookup p50 / p95 (ms) |", "|---|---|---|---|"];
  const ttlMs = 3_600_000;
  for (const dimensions of dimensionsList) {
    for (const kernel of ["wasm-simd", "javascript"] as const) {
      const cache = createMemoryAnswerCache({ maxEntries: entries, ttlMs, kernel });
      rows.push(
        `| memory (${kernel}) | ${dimensions} | ${entries} | ${cell(await lookups(cache, entries, dimensions, 500))} |`,
      );
    }
  }
  if (withRedis && redisServerAvailable()) {
    const redis = await startRedis();
    try {
      for (const dimensions of dimensionsList) {
        for (const count of [1_000, entries]) {
          const cache = await openRedisAnswerCache({
            url: redis.url,
            maxEntries: count,
            ttlMs,
            timeoutMs: 5_000,
            prefix: `bench:${dimensions}:${count}`,
          });
          rows.push(
            `| redis (loopback) | ${dimensions} | ${count} | ${cell(await lookups(cache, count, dimensions, 50))} |`,
          );
          const fresh = await openRedisAnswerCache({
            url: redis.url,
            maxEntries: count,
            ttlMs,
            timeoutMs: 5_000,
            prefix: `bench:fresh:${dimensions}:${count}`,
          });
          rows.push(
            `| redis (loopback), right after a store (partition re-read) | ${dimensions} | ${count} | ${cell(await lookups(fresh, count, dimensions, 20, true))} |`,
          );
        }
      }
    } finally {
      await redis.stop();
    }
  } else if (withRedis) {
    rows.push("| redis | - | - | skipped: redis-server is not installed |");
  }
  return rows;
}

export async function run(args: string[]): Promise<void> {
  const hits = Number(option(args, "--hits") ?? "20");
  const entries = Number(option(args, "--entries") ?? "10000");
  const dimensions = (option(args, "--dimensions") ?? "100,384").split(",").map(Number);
  const lines: string[] = [];
  if (!args.includes("--no-service")) lines.push(...(await serviceHits(hits)), "");
  lines.push(...(await lookupTable(entries, dimensions, !args.includes("--no-redis"))));
  process.stdout.write(`${lines.join("\n")}\n`);
}
