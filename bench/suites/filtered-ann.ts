/**
 * `npm run bench -- filtered-ann [--json] [--rows N] [--dimensions N] [--authors N] [--queries N]
 *   [--concurrency 1,4] [--with-ann-index] [--store-dir DIR]`
 *
 * Filtered dense search at scale through the project's LanceDB adapter: 100,000 × 384 seeded
 * clustered unit vectors (bench/support/synthetic-vectors.ts) with ~100-word texts, 10 authors
 * (a 10 % author filter), 200 queries drawn from the same distribution, each filtered to one
 * author. Recall@10 is against brute force over that author's rows (computed here); queries/s
 * at each concurrency (clients issuing searches back to back). Configurations:
 *   - memory index (the default): exact scan of the author's rows in the in-memory copy, then the
 *     10 rows' columns by row id;
 *   - LanceDB only (memory index off): LanceDB's own search (bitmap index on author_id), with
 *     `--with-ann-index` after building the HNSW_SQ index (slow to build on a busy machine:
 *     minutes) and otherwise exact.
 * `--store-dir` keeps the generated store there and reuses it on the next run.
 */
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import type { EmbeddedChunk } from "../../src/domain/index.js";
import { DEFAULT_ANN_SETTINGS, openVectorStore, type VectorStore } from "../../src/vector-store/index.js";
import { clusteredVectors, exactTopK, seededRandom } from "../support/synthetic-vectors.js";

export const name = "filtered-ann";
export const description =
  "filtered dense search at 100k × 384 (10 % author filter): recall@10 and queries/s at 1 and 4 clients";

const K = 10;

function option(args: string[], flag: string): string | undefined {
  const position = args.indexOf(flag);
  return position === -1 ? undefined : args[position + 1];
}

const chunkId = (row: number) => `00000000-0000-4000-8000-${row.toString(16).padStart(12, "0")}`;

async function writeStore(store: VectorStore, vectors: readonly Float32Array[], authors: number): Promise<void> {
  const random = seededRandom(11);
  const words = Array.from({ length: 5_000 }, (_, rank) => `w${rank.toString(36)}`);
  for (let start = 0; start < vectors.length; start += 5_000) {
    const chunks: EmbeddedChunk[] = [];
    for (let row = start; row < Math.min(vectors.length, start + 5_000); row++) {
      const author = `author-${row % authors}`;
      chunks.push({
        id: chunkId(row),
        documentId: chunkId(row),
        category: "articles",
        author: { id: author, fullName: author },
        platform: "bench",
        title: `document ${row}`,
        link: `https://example.com/${row}`,
        index: 0,
        text: Array.from({ length: 100 }, () => words[Math.floor(random() * words.length)]).join(" "),
        tokenCount: 100,
        vector: vectors[row] as Float32Array,
      });
    }
    await store.upsert(chunks, { knownNew: true });
  }
}

type Measured = {
  concurrency: number;
  queriesPerSecond: number;
  p50Ms: number;
  recallAt10: number;
  /** Process CPU time (all threads) per query: what the load costs, independent of other processes. */
  cpuMsPerQuery: number;
};

async function measure(
  store: VectorStore,
  queries: readonly { vector: Float32Array; authorId: string; truth: Set<string> }[],
  concurrency: number,
): Promise<Measured> {
  const latencies: number[] = [];
  let recall = 0;
  let next = 0;
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < queries.length) {
        const query = queries[next++] as (typeof queries)[number];
        const sent = performance.now();
        const hits = await store.search({
          category: "articles",
          mode: "dense",
          vector: query.vector,
          filter: { authorId: query.authorId },
          limit: K,
        });
        latencies.push(performance.now() - sent);
        recall += hits.filter((hit) => query.truth.has(hit.chunk.id)).length / K;
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  latencies.sort((left, right) => left - right);
  return {
    concurrency,
    queriesPerSecond: queries.length / seconds,
    p50Ms: latencies[latencies.length >> 1] ?? Number.NaN,
    recallAt10: recall / queries.length,
    cpuMsPerQuery: (cpu.user + cpu.system) / 1000 / queries.length,
  };
}

export async function run(args: string[]): Promise<void> {
  process.env.LANCEDB_LOG ??= "error";
  // Loaded here, not at import: LanceDB reads LANCEDB_LOG when its native module loads.
  const lancedb = await import("@lancedb/lancedb");
  const { createScalarIndexes, createVectorIndex, readIndexState } = await import(
    "../../src/vector-store/lancedb/indexes.js"
  );
  const rows = Number(option(args, "--rows") ?? "100000");
  const dimensions = Number(option(args, "--dimensions") ?? "384");
  const authors = Number(option(args, "--authors") ?? "10");
  const queryCount = Number(option(args, "--queries") ?? "200");
  const concurrencies = (option(args, "--concurrency") ?? "1,4").split(",").map(Number);
  const withAnnIndex = args.includes("--with-ann-index");
  const keptDirectory = option(args, "--store-dir");
  const directory = keptDirectory ?? (await mkdtemp(join(tmpdir(), "llm-twin-bench-filtered-ann-")));
  const report: Record<string, unknown> = { rows, dimensions, authors, queries: queryCount, k: K };
  try {
    let started = performance.now();
    const all = clusteredVectors({ count: rows + queryCount, dimensions, clusters: 1_000, spread: 1, seed: 7 });
    const base = all.slice(0, rows);
    const byAuthor = Array.from({ length: authors }, (_, author) =>
      base.map((_, row) => row).filter((row) => row % authors === author),
    );
    const queries = all.slice(rows).map((vector, position) => {
      const author = position % authors;
      const truth = exactTopK(vector, base, byAuthor[author] ?? [], K).map(chunkId);
      return { vector, authorId: `author-${author}`, truth: new Set(truth) };
    });
    report.generateSeconds = (performance.now() - started) / 1000;

    const uri = `lancedb:${directory}`;
    const reuse = keptDirectory !== undefined && existsSync(join(directory, "embedded_articles.lance"));
    if (!reuse) {
      const writer = await openVectorStore(uri);
      started = performance.now();
      await writeStore(writer, base, authors);
      report.writeSeconds = (performance.now() - started) / 1000;
      await writer[Symbol.asyncDispose]();
    }
    // The indexes a filtered dense search uses, with the adapter's own parameters; not
    // `optimize()`, whose full-text index build over these 100k texts stalled LanceDB on the
    // busy 2-core machine (threads idle, never committed).
    const connection = await lancedb.connect(directory);
    const table = await connection.openTable("embedded_articles");
    const state = await readIndexState(table);
    started = performance.now();
    await createScalarIndexes(table, state);
    if (withAnnIndex && !state.vector) {
      await createVectorIndex(table, state, rows, { ...DEFAULT_ANN_SETTINGS });
      report.annIndexSeconds = (performance.now() - started) / 1000;
    }
    connection.close();

    const configurations = [
      { label: "memory index (exact scan of the author's rows)", memoryIndex: {} },
      {
        label: withAnnIndex
          ? "LanceDB only (HNSW_SQ, ef 100, refine 5, bitmap prefilter)"
          : "LanceDB only (no ANN index: exact, bitmap prefilter)",
        memoryIndex: { maxMegabytes: 0 },
      },
    ];
    const results: Record<string, Measured[]> = {};
    for (const configuration of configurations) {
      const store = await openVectorStore(uri, { lancedb: { memoryIndex: configuration.memoryIndex } });
      started = performance.now();
      await measure(store, queries.slice(0, 10), 1); // warm-up (builds the memory index)
      const warmUpSeconds = (performance.now() - started) / 1000;
      results[configuration.label] = [];
      for (const concurrency of concurrencies) {
        results[configuration.label]?.push(await measure(store, queries, concurrency));
      }
      report[`${configuration.label} warm-up seconds`] = warmUpSeconds;
      await store[Symbol.asyncDispose]();
    }
    report.results = results;
    if (args.includes("--json")) {
      process.stdout.write(`${JSON.stringify(report)}\n`);
      return;
    }
    const lines = [
      `${rows} × ${dimensions} clustered unit vectors, ${authors} authors (filter keeps ${(100 / authors).toFixed(0)} %), ${queryCount} queries, k ${K}`,
      "",
      "| configuration | clients | queries/s | p50 ms | recall@10 | CPU ms / query |",
      "|---|---|---|---|---|---|",
      ...Object.entries(results).flatMap(([label, measured]) =>
        measured.map(
          (row) =>
            `| ${label} | ${row.concurrency} | ${row.queriesPerSecond.toFixed(0)} | ${row.p50Ms.toFixed(2)} | ${row.recallAt10.toFixed(3)} | ${row.cpuMsPerQuery.toFixed(2)} |`,
        ),
      ),
      "",
      `memory index build (first search after open): ${(report[`${configurations[0]?.label} warm-up seconds`] as number).toFixed(1)} s`,
    ];
    process.stdout.write(`${lines.join("\n")}\n`);
  } finally {
    if (keptDirectory === undefined) await rm(directory, { recursive: true, force: true });
  }
}
