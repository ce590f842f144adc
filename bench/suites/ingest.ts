/**
 * `npm run bench -- ingest [--json] [--corpus llm-twin|scifact|all] [--batch-size N] [--concurrency N]`
 * Ingestion throughput with the static embedder into a fresh LanceDB store: the 76 LLM Twin
 * articles and SciFact's 5,183 abstracts. One-time loading (embedder cache, store open) is
 * reported apart from the run; chunks/s counts chunks embedded and written per second of the run.
 * A second run over the same input (everything unchanged) is timed too.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createEmbedder } from "../../src/embedding/index.js";
import { readBeirCorpusResults } from "../../src/eval/beir/corpus.js";
import { ingest } from "../../src/ingestion/index.js";
import type { ReadResult } from "../../src/ingestion/readers/index.js";
import { readRawDocuments } from "../../src/ingestion/readers/index.js";
import { SHARED_DATASETS_MISSING, sharedDatasetPath } from "../../src/testing/shared-datasets.js";
import { openVectorStore, type VectorStore } from "../../src/vector-store/index.js";

export const name = "ingest";
export const description =
  "feature pipeline: chunks/s and wall time, LLM Twin articles and SciFact, static embedder into LanceDB";

type CorpusResult = {
  corpus: string;
  documents: number;
  chunks: number;
  storeOpenMs: number;
  runMs: number;
  chunksPerSecond: number;
  /** Index building at the end of the run (store.optimize). */
  optimizeMs: number;
  /** Chunks per second of the run without the final index build. */
  sustainedChunksPerSecond: number;
  cpuMsPerChunk: number;
  secondRunMs: number;
  secondRunChunksWritten: number;
};

function option(args: string[], flag: string): string | undefined {
  const position = args.indexOf(flag);
  return position === -1 ? undefined : args[position + 1];
}

export async function run(args: string[]): Promise<void> {
  process.env.LANCEDB_LOG ??= "error";
  const json = args.includes("--json");
  const which = option(args, "--corpus") ?? "all";
  const batchSize = Number(option(args, "--batch-size") ?? 256);
  const concurrency = Number(option(args, "--concurrency") ?? 2);
  const articles = sharedDatasetPath("llm-twin", "articles.json");
  const scifact = sharedDatasetPath("scifact");
  if (articles === undefined || scifact === undefined) {
    process.stderr.write(`${SHARED_DATASETS_MISSING}\n`);
    return;
  }
  const loadStarted = performance.now();
  const embedder = await createEmbedder("static");
  const embedderLoadMs = performance.now() - loadStarted;
  const corpora: { corpus: string; read: () => AsyncIterable<ReadResult> }[] = [];
  if (which === "all" || which === "llm-twin")
    corpora.push({ corpus: "llm-twin articles", read: () => readRawDocuments(articles) });
  if (which === "all" || which === "scifact")
    corpora.push({ corpus: "scifact", read: () => readBeirCorpusResults(scifact) });
  const results: CorpusResult[] = [];
  for (const { corpus, read } of corpora) {
    const directory = await mkdtemp(join(tmpdir(), "bench-ingest-"));
    try {
      const openStarted = performance.now();
      const opened = await openVectorStore(`lancedb:${directory}`);
      const storeOpenMs = performance.now() - openStarted;
      const timing = { optimizeMs: 0 };
      const store = timeOptimize(opened, timing);
      const cpuBefore = process.cpuUsage();
      const first = await ingest({ documents: read(), store, embedder, batchSize, concurrency });
      const cpu = process.cpuUsage(cpuBefore);
      const sustainedMs = first.durationMs - timing.optimizeMs;
      const second = await ingest({ documents: read(), store, embedder, batchSize, concurrency });
      await store.close();
      results.push({
        corpus,
        documents: first.documentsRead,
        chunks: first.chunksWritten,
        storeOpenMs: round(storeOpenMs),
        runMs: first.durationMs,
        chunksPerSecond: Math.round((first.chunksWritten * 1000) / first.durationMs),
        optimizeMs: Math.round(timing.optimizeMs),
        sustainedChunksPerSecond: Math.round((first.chunksWritten * 1000) / sustainedMs),
        cpuMsPerChunk: round((cpu.user + cpu.system) / 1000 / Math.max(1, first.chunksWritten), 3),
        secondRunMs: second.durationMs,
        secondRunChunksWritten: second.chunksWritten,
      });
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  }
  await embedder.dispose();
  const report = {
    embedder: embedder.id,
    embedderLoadMs: round(embedderLoadMs),
    embedderCacheConverted: "loading" in embedder ? (embedder.loading as { converted: boolean }).converted : undefined,
    batchSize,
    concurrency,
    results,
  };
  if (json) {
    process.stdout.write(`${JSON.stringify(report)}\n`);
    return;
  }
  process.stdout.write(
    `embedder ${report.embedder}: one-time load ${report.embedderLoadMs} ms${report.embedderCacheConverted ? " (converted the JSON this time)" : " (binary cache)"}\n`,
  );
  process.stdout.write(
    "| corpus | documents | chunks | store open | run (wall) | chunks/s | of which index build | chunks/s without it | CPU ms/chunk | unchanged rerun |\n|---|---|---|---|---|---|---|---|---|---|\n",
  );
  for (const result of results) {
    process.stdout.write(
      `| ${result.corpus} | ${result.documents} | ${result.chunks} | ${result.storeOpenMs} ms | ${(result.runMs / 1000).toFixed(2)} s | ${result.chunksPerSecond} | ${(result.optimizeMs / 1000).toFixed(2)} s | ${result.sustainedChunksPerSecond} | ${result.cpuMsPerChunk} | ${(result.secondRunMs / 1000).toFixed(2)} s, ${result.secondRunChunksWritten} written |\n`,
    );
  }
}

/** The same store, with the time spent in optimize() (index building) recorded. */
function timeOptimize(store: VectorStore, timing: { optimizeMs: number }): VectorStore {
  return new Proxy(store, {
    get(target, property) {
      if (property === "optimize") {
        return async () => {
          const started = performance.now();
          await target.optimize();
          timing.optimizeMs += performance.now() - started;
        };
      }
      const value = Reflect.get(target, property, target) as unknown;
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

function round(value: number, digits = 1): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}
