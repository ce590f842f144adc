/**
 * `npm run bench -- rag [--json] [--requests N] [--concurrency 1,16] [--expand N] [--max-new-tokens N] [--mode hybrid]`
 * The RAG service over the real LLM Twin corpus (static embedder, LanceDB) with a tiny generated
 * GGUF as the in-process LLM, driven over real HTTP. Reports, per concurrency, p50/p95 of every
 * step the service times, the client-side latency, throughput, and the service's own overhead:
 *   overhead = total − max(self-query, expansion) − embedding − search − generation − LLM tokenization
 * (self-query and expansion run concurrently; LLM tokenization is the time spent in the model's
 * tokenizer for the context budget, read from each request's trace; rerank by fusion, context and
 * prompt assembly, scheduling and tracing are what remains). Target: overhead p50 ≤ 1 ms.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { tinyModelPath } from "../../src/gguf/index.js";
import { createLlamaCppLanguageModel } from "../../src/llm/llama-cpp/index.js";
import { inProcessPromptLimit, runRagService } from "../../src/rag/service/run.js";
import { defaultRagServiceSettings } from "../../src/rag/service/settings.js";
import type { RagResponse, RagTimings } from "../../src/rag/types.js";
import { SHARED_DATASETS_MISSING, sharedDatasetPath } from "../../src/testing/shared-datasets.js";
import { disposeAll, ingestArticles, option, percentile, RAG_BENCH_QUERIES } from "../support/rag-bench.js";

export const name = "rag";
export const description = "RAG service: /rag latency per step at concurrency 1 and 16, and the service's own overhead";

const QUERIES = [
  ...RAG_BENCH_QUERIES.slice(0, 4),
  "What is the difference between ML development and continuous training environments?",
  ...RAG_BENCH_QUERIES.slice(4),
  "Draft a post about LLM evaluation",
];

type Sample = { timings: RagTimings; clientMs: number; overheadMs: number; tokenizationMs: number; traceId: string };

const STEPS = ["selfQueryMs", "expansionMs", "embeddingMs", "searchMs", "rerankMs", "generationMs", "totalMs"] as const;

function overheadOf(timings: RagTimings): number {
  return (
    timings.totalMs -
    Math.max(timings.selfQueryMs, timings.expansionMs) -
    timings.embeddingMs -
    timings.searchMs -
    timings.generationMs
  );
}

async function drive(
  url: string,
  requests: number,
  concurrency: number,
  body: Record<string, unknown>,
): Promise<{ samples: Sample[]; wallMs: number }> {
  const samples: Sample[] = [];
  let next = 0;
  const started = performance.now();
  const worker = async () => {
    while (next < requests) {
      const index = next++;
      const sent = performance.now();
      const response = await fetch(`${url}/rag`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ query: QUERIES[index % QUERIES.length], ...body }),
      });
      const payload = (await response.json()) as RagResponse;
      if (!response.ok) throw new Error(`/rag answered ${response.status}: ${JSON.stringify(payload)}`);
      samples.push({
        timings: payload.timings,
        clientMs: performance.now() - sent,
        overheadMs: overheadOf(payload.timings),
        tokenizationMs: 0,
        traceId: response.headers.get("x-trace-id") ?? "",
      });
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const wallMs = performance.now() - started;
  for (const sample of samples) {
    const trace = (await (await fetch(`${url}/traces/${sample.traceId}`)).json()) as {
      spans: { name: string; attributes: { tokenizationMs?: number } }[];
    };
    sample.tokenizationMs = trace.spans.find((span) => span.name === "prompt")?.attributes.tokenizationMs ?? 0;
    sample.overheadMs -= sample.tokenizationMs;
  }
  return { samples, wallMs };
}

function summarize(samples: readonly Sample[], wallMs: number) {
  const steps = Object.fromEntries(
    STEPS.map((step) => {
      const values = samples.map((sample) => sample.timings[step]);
      return [step, { p50: percentile(values, 0.5), p95: percentile(values, 0.95) }];
    }),
  );
  const client = samples.map((sample) => sample.clientMs);
  const overhead = samples.map((sample) => sample.overheadMs);
  const http = samples.map((sample) => sample.clientMs - sample.timings.totalMs);
  const tokenization = samples.map((sample) => sample.tokenizationMs);
  return {
    requests: samples.length,
    requestsPerSecond: (samples.length / wallMs) * 1000,
    steps,
    clientMs: { p50: percentile(client, 0.5), p95: percentile(client, 0.95) },
    overheadMs: { p50: percentile(overhead, 0.5), p95: percentile(overhead, 0.95) },
    tokenizationMs: { p50: percentile(tokenization, 0.5), p95: percentile(tokenization, 0.95) },
    httpAndQueueMs: { p50: percentile(http, 0.5), p95: percentile(http, 0.95) },
  };
}

const fixed = (value: number) => (Number.isNaN(value) ? "-" : value < 10 ? value.toFixed(2) : value.toFixed(1));

export async function run(args: string[]): Promise<void> {
  const articles = sharedDatasetPath("llm-twin", "articles.json");
  if (articles === undefined) {
    process.stderr.write(`${SHARED_DATASETS_MISSING}\n`);
    return;
  }
  process.env.LANCEDB_LOG ??= "error";
  const requests = Number(option(args, "--requests") ?? "64");
  const concurrencies = (option(args, "--concurrency") ?? "1,16").split(",").map(Number);
  const expandQueries = Number(option(args, "--expand") ?? "3");
  const maxNewTokens = Number(option(args, "--max-new-tokens") ?? "16");
  const mode = option(args, "--mode") ?? "hybrid";
  const directory = await mkdtemp(join(tmpdir(), "llm-twin-bench-rag-"));
  try {
    const { storeUri, store, embedder, summary, ingestMs } = await ingestArticles(directory, articles);
    const modelPath = await tinyModelPath("chat");
    const llm = await createLlamaCppLanguageModel({ modelPath, threads: 1, parallel: 4, maxQueue: 64 });
    const service = await runRagService({
      settings: defaultRagServiceSettings({
        port: 0,
        store: storeUri,
        logLevel: "silent",
        rateLimit: 0,
        retrievalMode: mode,
        expandQueries,
      }),
      store,
      embedder,
      llm,
      ...inProcessPromptLimit(llm.engine),
      disposeResources: async () => {
        await disposeAll(llm, store, embedder);
      },
    });
    const body = { maxNewTokens, expandQueries };
    await drive(service.url, 8, 2, body); // warm-up
    const results: Record<string, ReturnType<typeof summarize>> = {};
    for (const concurrency of concurrencies) {
      const { samples, wallMs } = await drive(service.url, requests, concurrency, body);
      results[String(concurrency)] = summarize(samples, wallMs);
    }
    await service.close();

    const report = {
      corpus: { documents: summary.documentsRead, chunks: summary.chunksWritten, ingestMs },
      setup: {
        llm: "tiny generated GGUF (chat preset), in-process, 1 thread, 4 sequences",
        retrievalMode: mode,
        expandQueries,
        maxNewTokens,
        requests,
      },
      results,
    };
    if (args.includes("--json")) {
      process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      return;
    }
    const lines = [
      `corpus: ${summary.documentsRead} articles, ${summary.chunksWritten} chunks (ingested in ${fixed(ingestMs)} ms); mode ${mode}, expandQueries ${expandQueries}, maxNewTokens ${maxNewTokens}, ${requests} requests per concurrency`,
      "",
      "| concurrency | req/s | self-query | expansion | embedding | search | rerank | generation | total | client | LLM tokenization | service overhead | HTTP + queue |",
      "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
      ...Object.entries(results).map(([concurrency, result]) => {
        const cell = (value: { p50: number; p95: number }) => `${fixed(value.p50)} / ${fixed(value.p95)}`;
        return `| ${concurrency} | ${fixed(result.requestsPerSecond)} | ${STEPS.map((step) => cell(result.steps[step] as { p50: number; p95: number })).join(" | ")} | ${cell(result.clientMs)} | ${cell(result.tokenizationMs)} | ${cell(result.overheadMs)} | ${cell(result.httpAndQueueMs)} |`;
      }),
      "",
      "(milliseconds, p50 / p95)",
    ];
    process.stdout.write(`${lines.join("\n")}\n`);
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
}
