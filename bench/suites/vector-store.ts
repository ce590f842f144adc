/**
 * `npm run bench -- vector-store [--json] [--store qdrant:<url>] [--queries N] [--batch N]`
 *
 * On bigann10k (10,000 × 128-d BIGANN vectors, normalised to unit length for cosine search):
 * upsert throughput, dense / lexical / hybrid query latency and dense recall@10 against exact
 * cosine neighbours (the query's self-match dropped), without and with the ANN (HNSW_SQ) index.
 * Texts for lexical search are synthetic (words drawn from a seeded Zipf-like vocabulary), since
 * bigann has none: lexical and hybrid figures are latencies, plus how often the query's own
 * document is found.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import type { EmbeddedChunk } from "../../src/domain/index.js";
import { sharedDatasetPath } from "../../src/testing/shared-datasets.js";
import { openVectorStore, type SearchMode, type VectorStore } from "../../src/vector-store/index.js";
import { seededRandom } from "../support/synthetic-vectors.js";

export const name = "vector-store";
export const description = "vector store: upsert rows/s, dense/lexical/hybrid latency and recall@10 on bigann10k";

const K = 10;
const CONCURRENCY = 8;

function readVectors(buffer: Buffer, bytesPerComponent: 1 | 4): number[][] {
  const vectors: number[][] = [];
  let offset = 0;
  while (offset < buffer.length) {
    const dimensions = buffer.readInt32LE(offset);
    offset += 4;
    const vector: number[] = new Array(dimensions);
    for (let axis = 0; axis < dimensions; axis++) {
      vector[axis] = bytesPerComponent === 1 ? buffer.readUInt8(offset + axis) : buffer.readInt32LE(offset + axis * 4);
    }
    offset += dimensions * bytesPerComponent;
    vectors.push(vector);
  }
  return vectors;
}

function unit(vector: readonly number[]): Float32Array {
  const norm = Math.hypot(...vector) || 1;
  return Float32Array.from(vector, (value) => value / norm);
}

/** 60-word synthetic texts over a 5,000-word vocabulary with a Zipf-like (1/rank) distribution. */
function syntheticTexts(count: number): string[] {
  const random = seededRandom(42);
  const vocabulary = Array.from({ length: 5_000 }, (_, rank) => `w${rank.toString(36)}x`);
  const cumulative: number[] = [];
  let total = 0;
  for (let rank = 1; rank <= vocabulary.length; rank++) {
    total += 1 / rank;
    cumulative.push(total);
  }
  const draw = () => {
    const target = random() * total;
    let low = 0;
    let high = cumulative.length - 1;
    while (low < high) {
      const middle = (low + high) >> 1;
      if ((cumulative[middle] ?? 0) < target) low = middle + 1;
      else high = middle;
    }
    return vocabulary[low] ?? "";
  };
  return Array.from({ length: count }, () => Array.from({ length: 60 }, draw).join(" "));
}

function percentile(sorted: readonly number[], fraction: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * fraction))] ?? Number.NaN;
}

type ModeResult = {
  mode: SearchMode;
  p50Ms: number;
  p95Ms: number;
  qps: number;
  concurrentQps: number;
  quality: number;
};

async function measureMode(
  store: VectorStore,
  mode: SearchMode,
  queries: { vector: Float32Array; text: string; selfId: string; truth: Set<string> }[],
): Promise<ModeResult> {
  const request = (query: (typeof queries)[number]) => ({
    category: "articles" as const,
    mode,
    vector: query.vector,
    text: query.text,
    limit: K + 1,
  });
  await store.search(request(queries[0] as (typeof queries)[number])); // warm-up
  const latencies: number[] = [];
  let quality = 0;
  const started = performance.now();
  for (const query of queries) {
    const before = performance.now();
    const hits = await store.search(request(query));
    latencies.push(performance.now() - before);
    const ids = hits
      .map((hit) => hit.chunk.id)
      .filter((id) => id !== query.selfId)
      .slice(0, K);
    quality +=
      mode === "lexical"
        ? hits.some((hit) => hit.chunk.id === query.selfId)
          ? 1
          : 0
        : ids.filter((id) => query.truth.has(id)).length / K;
  }
  const sequentialSeconds = (performance.now() - started) / 1000;
  const concurrentStart = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < queries.length) {
        const query = queries[next++] as (typeof queries)[number];
        await store.search(request(query));
      }
    }),
  );
  const concurrentSeconds = (performance.now() - concurrentStart) / 1000;
  latencies.sort((left, right) => left - right);
  return {
    mode,
    p50Ms: percentile(latencies, 0.5),
    p95Ms: percentile(latencies, 0.95),
    qps: queries.length / sequentialSeconds,
    concurrentQps: queries.length / concurrentSeconds,
    quality: quality / queries.length,
  };
}

export async function run(args: string[]): Promise<void> {
  const json = args.includes("--json");
  const option = (flag: string) => (args.includes(flag) ? args[args.indexOf(flag) + 1] : undefined);
  const storeArgument = option("--store");
  const queryCount = Number(option("--queries") ?? 100);
  const batchSize = Number(option("--batch") ?? 256);
  const folder = sharedDatasetPath("bigann10k");
  if (folder === undefined) {
    process.stderr.write("vector-store bench skipped: ../shared/datasets/bigann10k is not present\n");
    return;
  }
  process.env.LANCEDB_LOG ??= "error";
  const base = readVectors(await readFile(join(folder, "base.bvecs")), 1).map(unit);
  const queryVectors = readVectors(await readFile(join(folder, "query.bvecs")), 1)
    .map(unit)
    .slice(0, queryCount);
  const texts = syntheticTexts(base.length);
  const id = (row: number) => `00000000-0000-4000-8000-${row.toString(16).padStart(12, "0")}`;
  const chunks: EmbeddedChunk[] = base.map((vector, row) => ({
    id: id(row),
    documentId: id(row),
    category: "articles",
    author: { id: row % 2 === 0 ? "author-even" : "author-odd", fullName: row % 2 === 0 ? "Even" : "Odd" },
    platform: "bench",
    title: `vector ${row}`,
    link: `https://example.com/${row}`,
    index: 0,
    text: texts[row] ?? "",
    tokenCount: 60,
    vector,
  }));
  // Exact cosine neighbours of each query (query i is base vector i: its self-match is dropped).
  const queries = queryVectors.map((vector, row) => {
    const scored = base.map((candidate, other) => {
      let dot = 0;
      for (let axis = 0; axis < vector.length; axis++) dot += (vector[axis] ?? 0) * (candidate[axis] ?? 0);
      return { other, dot };
    });
    scored.sort((left, right) => right.dot - left.dot);
    const truth = new Set(
      scored
        .filter(({ other }) => other !== row)
        .slice(0, K)
        .map(({ other }) => id(other)),
    );
    const words = (texts[row] ?? "").split(" ");
    return { vector, text: words.slice(20, 25).join(" "), selfId: id(row), truth };
  });

  const directory = await mkdtemp(join(tmpdir(), "llm-twin-bench-store-"));
  const uri = storeArgument?.startsWith("qdrant:") === true ? storeArgument : `lancedb:${directory}`;
  const report: Record<string, unknown> = {
    batchSize,
    dataset: "bigann10k",
    rows: base.length,
    queries: queries.length,
    store: uri.split(":")[0],
  };
  try {
    // On Qdrant, collections under their own prefix: drop() never touches other data there.
    const store = await openVectorStore(uri, {
      lancedb: { ann: { threshold: 1_000_000 } },
      qdrant: { collectionPrefix: "llm_twin_bench_" },
    });
    await store.drop();
    // Warm-up (Arrow conversion, table creation paths), then the measured runs in batches of
    // `--batch` rows (ingestion writes windows of 256 chunks).
    await store.upsert(chunks.slice(0, batchSize));
    await store.drop();
    let started = performance.now();
    for (let start = 0; start < chunks.length; start += batchSize) {
      await store.upsert(chunks.slice(start, start + batchSize), { knownNew: true });
    }
    const appendSeconds = (performance.now() - started) / 1000;
    await store.drop();
    started = performance.now();
    for (let start = 0; start < chunks.length; start += batchSize) {
      await store.upsert(chunks.slice(start, start + batchSize));
    }
    const insertSeconds = (performance.now() - started) / 1000;
    started = performance.now();
    await store.upsert(chunks);
    const reupsertSeconds = (performance.now() - started) / 1000;
    started = performance.now();
    await store.optimize();
    const optimizeSeconds = (performance.now() - started) / 1000;
    report.upsert = {
      appendRowsPerSecond: Math.round(chunks.length / appendSeconds),
      insertRowsPerSecond: Math.round(chunks.length / insertSeconds),
      reupsertRowsPerSecond: Math.round(chunks.length / reupsertSeconds),
      optimizeSeconds: Number(optimizeSeconds.toFixed(2)),
      count: await store.count(),
    };
    const withoutIndex: ModeResult[] = [];
    for (const mode of ["dense", "lexical", "hybrid"] as const)
      withoutIndex.push(await measureMode(store, mode, queries));
    await store[Symbol.asyncDispose]();
    report.bruteForce = withoutIndex;

    if (uri.startsWith("lancedb:")) {
      const indexed = await openVectorStore(uri, { lancedb: { ann: { threshold: 1 } } });
      started = performance.now();
      await indexed.optimize();
      report.annIndexBuildSeconds = Number(((performance.now() - started) / 1000).toFixed(2));
      const withIndex: ModeResult[] = [];
      for (const mode of ["dense", "hybrid"] as const) withIndex.push(await measureMode(indexed, mode, queries));
      report.hnswSq = withIndex;
      await indexed.drop();
      await indexed[Symbol.asyncDispose]();
    }
    if (uri.startsWith("qdrant:")) {
      const cleanup = await openVectorStore(uri, { qdrant: { collectionPrefix: "llm_twin_bench_" } });
      await cleanup.drop();
    }
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
  if (json) {
    process.stdout.write(`${JSON.stringify(report)}\n`);
    return;
  }
  const upsert = report.upsert as Record<string, number>;
  process.stdout.write(
    `bigann10k (${base.length} rows, 128-d, ${queries.length} queries) into ${report.store}\n` +
      `upsert in batches of ${batchSize}: ${upsert.insertRowsPerSecond} rows/s new, ${upsert.reupsertRowsPerSecond} rows/s re-upsert, ` +
      `${upsert.appendRowsPerSecond} rows/s new with knownNew (append); optimize ${upsert.optimizeSeconds} s\n`,
  );
  const table = (title: string, rows: ModeResult[]) => {
    process.stdout.write(`\n${title}\nmode     p50 ms  p95 ms  qps(1)  qps(${CONCURRENCY})  quality\n`);
    for (const row of rows) {
      process.stdout.write(
        `${row.mode.padEnd(8)} ${row.p50Ms.toFixed(2).padStart(6)}  ${row.p95Ms.toFixed(2).padStart(6)}  ${row.qps
          .toFixed(0)
          .padStart(6)}  ${row.concurrentQps.toFixed(0).padStart(6)}  ${row.quality.toFixed(3)}\n`,
      );
    }
  };
  table("without ANN index (exact)", report.bruteForce as ModeResult[]);
  if (report.hnswSq !== undefined) {
    process.stdout.write(`\nHNSW_SQ index build: ${String(report.annIndexBuildSeconds)} s\n`);
    table("with HNSW_SQ index", report.hnswSq as ModeResult[]);
  }
  process.stdout.write(
    "\nquality: dense and hybrid = recall@10 against exact cosine neighbours (self-match dropped); lexical = share of queries whose source text is in the top 11\n",
  );
}
