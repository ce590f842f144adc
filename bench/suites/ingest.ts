/**
 * `npm run bench -- ingest [--json] [--corpus llm-twin|scifact|all] [--batch-size N] [--concurrency N]
 *   [--worker-thread none|embedding|preprocessing] [--merge]`
 * Ingestion throughput with the static embedder into a fresh LanceDB store: the 76 LLM Twin
 * articles and SciFact's 5,183 abstracts. One-time loading (embedder cache, store open, worker
 * start-up) is reported apart from the run; chunks/s counts chunks embedded and written per second
 * of the run. A second run over the same input (everything unchanged) is timed too.
 *
 * On a shared, loaded machine wall time says little, so CPU time is measured too: the whole
 * process, the main thread and the preprocessing worker thread (Linux /proc/thread-self/stat,
 * 10 ms ticks). "CPU-bound chunks/s (2 cores)" is chunks ÷ the largest of main-thread CPU, worker
 * CPU and half the process CPU (all without the final index build and the worker's start-up):
 * the rate two otherwise idle cores would sustain.
 * `--worker-thread` chooses what runs in a worker thread (default: the pipeline's default);
 * `--merge` disables appends (merge-insert only).
 */
import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { createEmbedder } from "../../src/embedding/index.js";
import { readBeirCorpusResults } from "../../src/eval/beir/corpus.js";
import { DEFAULT_INGEST_WORKER_THREAD, ingest, type WorkerThreadMode } from "../../src/ingestion/index.js";
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
  /** Process CPU per chunk without the final index build and the worker's start-up. */
  sustainedCpuMsPerChunk: number;
  mainThreadCpuMsPerChunk: number | null;
  workerCpuMsPerChunk: number | null;
  workerStartupCpuMs: number | null;
  optimizeCpuMs: number;
  cpuBoundChunksPerSecond: number | null;
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
  const workerThread = (option(args, "--worker-thread") ?? DEFAULT_INGEST_WORKER_THREAD) as WorkerThreadMode;
  const appendNewChunks = !args.includes("--merge");
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
      const timing = { optimizeMs: 0, optimizeCpuMs: 0, optimizeMainCpuMs: 0 };
      const store = timeOptimize(opened, timing);
      const worker = { cpuMs: null as number | null, startupCpuMs: null as number | null };
      const settings = {
        store,
        embedder,
        batchSize,
        concurrency,
        workerThread,
        appendNewChunks,
        onPreprocessWorkerClosed: (stats: { cpuMs: number | null; startupCpuMs: number | null }) =>
          Object.assign(worker, stats),
      };
      const cpuBefore = process.cpuUsage();
      const mainBefore = threadCpuMs();
      const first = await ingest({ documents: read(), ...settings });
      const cpu = process.cpuUsage(cpuBefore);
      const mainAfter = threadCpuMs();
      const sustainedMs = first.durationMs - timing.optimizeMs;
      const { onPreprocessWorkerClosed: _firstRunOnly, ...secondSettings } = settings;
      const second = await ingest({ documents: read(), ...secondSettings });
      await store[Symbol.asyncDispose]();
      const chunks = Math.max(1, first.chunksWritten);
      const processCpuMs = (cpu.user + cpu.system) / 1000;
      const sustainedCpuMs = processCpuMs - timing.optimizeCpuMs - (worker.startupCpuMs ?? 0);
      const mainMs =
        mainBefore === null || mainAfter === null ? null : mainAfter - mainBefore - timing.optimizeMainCpuMs;
      const workerMs =
        worker.cpuMs === null || workerThread === "none" ? null : worker.cpuMs - (worker.startupCpuMs ?? 0);
      results.push({
        corpus,
        documents: first.documentsRead,
        chunks: first.chunksWritten,
        storeOpenMs: round(storeOpenMs),
        runMs: first.durationMs,
        chunksPerSecond: Math.round((first.chunksWritten * 1000) / first.durationMs),
        optimizeMs: Math.round(timing.optimizeMs),
        sustainedChunksPerSecond: Math.round((first.chunksWritten * 1000) / sustainedMs),
        cpuMsPerChunk: round(processCpuMs / chunks, 3),
        sustainedCpuMsPerChunk: round(sustainedCpuMs / chunks, 3),
        mainThreadCpuMsPerChunk: mainMs === null ? null : round(mainMs / chunks, 3),
        workerCpuMsPerChunk: workerMs === null ? null : round(workerMs / chunks, 3),
        workerStartupCpuMs: worker.startupCpuMs,
        optimizeCpuMs: Math.round(timing.optimizeCpuMs),
        cpuBoundChunksPerSecond: Math.round((chunks * 1000) / Math.max(mainMs ?? 0, workerMs ?? 0, sustainedCpuMs / 2)),
        secondRunMs: second.durationMs,
        secondRunChunksWritten: second.chunksWritten,
      });
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  }
  await embedder[Symbol.asyncDispose]();
  const report = {
    embedder: embedder.id,
    embedderLoadMs: round(embedderLoadMs),
    embedderCacheConverted: "loading" in embedder ? (embedder.loading as { converted: boolean }).converted : undefined,
    batchSize,
    concurrency,
    workerThread,
    appendNewChunks,
    loadAverage: loadavg().map((value) => round(value, 1)),
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
    `worker thread: ${workerThread}, ${appendNewChunks ? "append new documents" : "merge-insert only"}, batch ${batchSize}, concurrency ${concurrency}, load average ${report.loadAverage.join(" ")}\n`,
  );
  process.stdout.write(
    "| corpus | documents | chunks | store open | run (wall) | chunks/s (wall) | of which index build | chunks/s without it (wall) | CPU ms/chunk (process, all) | CPU ms/chunk sustained (process / main thread / worker) | worker start-up CPU | index build CPU | CPU-bound chunks/s (2 cores) | unchanged rerun |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n",
  );
  for (const result of results) {
    process.stdout.write(
      `| ${result.corpus} | ${result.documents} | ${result.chunks} | ${result.storeOpenMs} ms | ${(result.runMs / 1000).toFixed(2)} s | ${result.chunksPerSecond} | ${(result.optimizeMs / 1000).toFixed(2)} s | ${result.sustainedChunksPerSecond} | ${result.cpuMsPerChunk} | ${result.sustainedCpuMsPerChunk} / ${result.mainThreadCpuMsPerChunk ?? "n/a"} / ${result.workerCpuMsPerChunk ?? "n/a"} | ${result.workerStartupCpuMs ?? "n/a"} ms | ${result.optimizeCpuMs} ms | ${result.cpuBoundChunksPerSecond ?? "n/a"} | ${(result.secondRunMs / 1000).toFixed(2)} s, ${result.secondRunChunksWritten} written |\n`,
    );
  }
}

/** CPU time (ms) of the calling thread, from Linux /proc; null elsewhere. */
function threadCpuMs(): number | null {
  try {
    const fields = readFileSync("/proc/thread-self/stat", "utf8").split(") ")[1]?.split(" ") ?? [];
    const ticks = Number(fields[11]) + Number(fields[12]);
    return Number.isFinite(ticks) ? ticks * 10 : null;
  } catch {
    return null;
  }
}

/** The same store, with the time spent in optimize() (index building) recorded: wall, process CPU, main-thread CPU. */
function timeOptimize(
  store: VectorStore,
  timing: { optimizeMs: number; optimizeCpuMs: number; optimizeMainCpuMs: number },
): VectorStore {
  return new Proxy(store, {
    get(target, property) {
      if (property === "optimize") {
        return async () => {
          const started = performance.now();
          const cpuBefore = process.cpuUsage();
          const mainBefore = threadCpuMs();
          await target.optimize();
          const cpu = process.cpuUsage(cpuBefore);
          timing.optimizeMs += performance.now() - started;
          timing.optimizeCpuMs += (cpu.user + cpu.system) / 1000;
          timing.optimizeMainCpuMs += (threadCpuMs() ?? 0) - (mainBefore ?? 0);
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
