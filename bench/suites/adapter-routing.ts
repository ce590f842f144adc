/**
 * `npm run bench -- adapter-routing [--json] [--requests N] [--max-new-tokens N]`
 * What routing each /rag request to its author's LoRA adapter costs. One in-process engine (tiny
 * generated GGUF, one generated LoRA adapter per author of the real LLM Twin corpus), one store, two
 * RAG services over them: one routes (adapters by author), one does not (base model). Requests
 * alternate between the two, sequentially, with queries naming an author, in one run.
 * Reported per arm, p50/p95: /rag total, generation, and total − generation (what the service does
 * around the model, where the routing lookup lives). Target: routing adds ≤ 1 ms p50 to /rag outside
 * generation (the adapter's own compute is generation time and is reported apart).
 */
import { mkdtemp, rm } from "node:fs/promises";
import os, { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { generateLora, TINY_MODEL_PRESETS, tinyModelPath } from "../../src/gguf/index.js";
import { createLlamaCppLanguageModel } from "../../src/llm/llama-cpp/index.js";
import { createAdapterRouter } from "../../src/rag/adapter-routing.js";
import { inProcessPromptLimit, runRagService } from "../../src/rag/service/run.js";
import { defaultRagServiceSettings } from "../../src/rag/service/settings.js";
import type { RagResponse } from "../../src/rag/types.js";
import { SHARED_DATASETS_MISSING, sharedDatasetPath } from "../../src/testing/shared-datasets.js";
import { disposeAll, ingestArticles, option, percentile } from "../support/rag-bench.js";

export const name = "adapter-routing";
export const description = "/rag with adapter routing vs without (alternating, one run): routing cost p50";

const TOPICS = ["RAG systems", "fine-tuning LLMs", "vector databases", "model merging", "quantization", "chunking"];

type Sample = { totalMs: number; generationMs: number; aroundMs: number; adapter: string | null };

const fixed = (value: number) => (Number.isNaN(value) ? "-" : value < 10 ? value.toFixed(3) : value.toFixed(1));

export async function run(args: string[]): Promise<void> {
  const articles = sharedDatasetPath("llm-twin", "articles.json");
  if (articles === undefined) {
    process.stderr.write(`${SHARED_DATASETS_MISSING}\n`);
    return;
  }
  process.env.LANCEDB_LOG ??= "error";
  const requests = Number(option(args, "--requests") ?? "200");
  const maxNewTokens = Number(option(args, "--max-new-tokens") ?? "8");
  const directory = await mkdtemp(join(tmpdir(), "llm-twin-bench-adapter-routing-"));
  try {
    const { storeUri, store, embedder } = await ingestArticles(directory, articles);
    const authors = await store.listAuthors();
    const loras = await Promise.all(
      authors.map(async (author, index) => {
        const path = join(directory, `adapter-${index}.gguf`);
        await generateLora(path, { base: TINY_MODEL_PRESETS.chat, rank: 4, alpha: 4, seed: 100 + index });
        return { name: `twin-${index}`, path, scale: 1, author: author.id };
      }),
    );
    const llm = await createLlamaCppLanguageModel({
      modelPath: await tinyModelPath("chat"),
      threads: 1,
      parallel: 2,
      loras: loras.map(({ name, path, scale }) => ({ name, path, scale })),
    });
    const catalog = {
      model: { name: llm.id, version: 1 },
      adapters: loras.map((lora) => ({ name: lora.name, version: 1, author: lora.author })),
    };
    const start = (routed: boolean) =>
      runRagService({
        settings: defaultRagServiceSettings({ port: 0, store: storeUri, logLevel: "silent", rateLimit: 0 }),
        store,
        embedder,
        llm,
        ...inProcessPromptLimit(llm.engine),
        ...(routed ? { adapters: createAdapterRouter(() => catalog) } : {}),
        disposeResources: async () => undefined,
      });
    const services = { routed: await start(true), base: await start(false) };
    const queries = authors.flatMap((author) =>
      TOPICS.map((topic) => `What does ${author.fullName} write about ${topic}?`),
    );
    const samples: Record<keyof typeof services, Sample[]> = { routed: [], base: [] };
    const pairDifferences: number[] = [];
    const ask = async (arm: keyof typeof services, index: number) => {
      const response = await fetch(`${services[arm].url}/rag`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ query: queries[index % queries.length], maxNewTokens, temperature: 0 }),
      });
      const body = (await response.json()) as RagResponse;
      if (!response.ok) throw new Error(`/rag answered ${response.status}: ${JSON.stringify(body)}`);
      return {
        totalMs: body.timings.totalMs,
        generationMs: body.timings.generationMs,
        aroundMs: body.timings.totalMs - body.timings.generationMs,
        adapter: body.model.adapter?.name ?? null,
      };
    };
    for (let index = 0; index < 16; index += 1) await ask(index % 2 === 0 ? "routed" : "base", index); // warm-up
    for (let index = 0; index < requests * 2; index += 1) {
      // Alternating arms (and which goes first per pair) so machine load hits both alike.
      const pair = Math.floor(index / 2);
      const arm = (index + pair) % 2 === 0 ? "routed" : "base";
      samples[arm].push(await ask(arm, pair));
      if (index % 2 === 1) {
        const routed = samples.routed.at(-1);
        const base = samples.base.at(-1);
        if (routed !== undefined && base !== undefined) pairDifferences.push(routed.aroundMs - base.aroundMs);
      }
    }
    // The lookup itself, alone: one route() per request.
    const router = createAdapterRouter(() => catalog);
    const lookups = 200_000;
    const lookupStarted = performance.now();
    for (let index = 0; index < lookups; index += 1) router.route(authors[index % authors.length]);
    const lookupMs = (performance.now() - lookupStarted) / lookups;
    await services.routed.close();
    await services.base.close();
    await disposeAll(llm, store, embedder);

    const stats = (values: number[]) => ({ p50: percentile(values, 0.5), p95: percentile(values, 0.95) });
    const armSummary = (list: readonly Sample[]) => ({
      requests: list.length,
      routedToAdapter: list.filter((sample) => sample.adapter !== null).length,
      totalMs: stats(list.map((sample) => sample.totalMs)),
      generationMs: stats(list.map((sample) => sample.generationMs)),
      aroundGenerationMs: stats(list.map((sample) => sample.aroundMs)),
    });
    const summary = { routed: armSummary(samples.routed), base: armSummary(samples.base) };
    const routingCostP50 = percentile(pairDifferences, 0.5);
    const report = {
      setup: {
        corpus: "LLM Twin articles, static embedder, LanceDB hybrid",
        llm: `tiny generated GGUF, in-process, 1 thread, ${loras.length} generated rank-4 LoRA adapters (one per author)`,
        requestsPerArm: requests,
        maxNewTokens,
        load: os
          .loadavg()
          .map((value) => value.toFixed(2))
          .join(" "),
      },
      summary,
      /** p50 over request pairs of (routed − base) of total − generation. */
      routingCostP50Ms: routingCostP50,
      routeLookupMs: lookupMs,
      target: "≤ 1 ms p50",
      met: routingCostP50 <= 1,
    };
    if (args.includes("--json")) {
      process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      return;
    }
    const row = (arm: "routed" | "base") => {
      const value = summary[arm];
      const cell = (key: "totalMs" | "generationMs" | "aroundGenerationMs") =>
        `${fixed(value[key].p50)} / ${fixed(value[key].p95)}`;
      return `| ${arm} | ${value.requests} | ${value.routedToAdapter} | ${cell("totalMs")} | ${cell("generationMs")} | ${cell("aroundGenerationMs")} |`;
    };
    process.stdout.write(
      `${[
        `${report.setup.llm}; ${requests} requests per arm, alternating; maxNewTokens ${maxNewTokens}; load average ${report.setup.load}`,
        "",
        "| arm | requests | on an adapter | /rag total | generation | total − generation |",
        "|---|---|---|---|---|---|",
        row("routed"),
        row("base"),
        "",
        `(milliseconds, p50 / p95) routing cost outside generation, p50 of the per-pair difference: ${fixed(routingCostP50)} ms (target ≤ 1 ms: ${report.met ? "met" : "NOT met"}); route() alone: ${(lookupMs * 1000).toFixed(2)} µs`,
      ].join("\n")}\n`,
    );
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
}
