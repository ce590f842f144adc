/**
 * The evaluation harness end to end on a small real subset of SciFact (30 train queries, their
 * relevant abstracts plus others up to 200): ingestion through the feature pipeline, store reuse,
 * all three modes through the RAG retrieve code, a tiny generated reranker (mechanics only), and
 * the CLI's --json output and Markdown report.
 */
import { execFile } from "node:child_process";
import { createReadStream } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { promisify } from "node:util";
import { createGunzip } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createEmbedder, type Embedder } from "../../src/embedding/index.js";
import { runRetrievalEvaluation } from "../../src/eval/index.js";
import { tinyModelPath } from "../../src/gguf/index.js";
import { createLlamaCppReranker } from "../../src/rag/rerank/llama-cpp-reranker.js";
import { projectRoot, requireSharedDataset } from "../../src/testing/shared-datasets.js";

const scifact = requireSharedDataset("scifact");
const run = promisify(execFile);
process.env.LANCEDB_LOG = "error";

async function writeSubset(source: string, target: string): Promise<{ queries: number; documents: number }> {
  const qrelsLines = (await readFile(join(source, "qrels", "train.tsv"), "utf8")).trim().split("\n");
  const queryLines = (await readFile(join(source, "queries-train.jsonl"), "utf8")).trim().split("\n");
  const judgedQueries = new Set(qrelsLines.slice(1).map((line) => line.split("\t")[0]));
  const chosen = queryLines.filter((line) => judgedQueries.has((JSON.parse(line) as { _id: string })._id)).slice(0, 30);
  const chosenIds = new Set(chosen.map((line) => (JSON.parse(line) as { _id: string })._id));
  const qrels = qrelsLines.slice(1).filter((line) => chosenIds.has(line.split("\t")[0] ?? ""));
  const relevant = new Set(qrels.map((line) => line.split("\t")[1]));
  const corpus: string[] = [];
  const others: string[] = [];
  const lines = createInterface({ input: createReadStream(join(source, "corpus.jsonl.gz")).pipe(createGunzip()) });
  for await (const line of lines) {
    if (line.trim() === "") continue;
    if (relevant.has((JSON.parse(line) as { _id: string })._id)) corpus.push(line);
    else if (others.length < 200) others.push(line);
  }
  corpus.push(...others.slice(0, 200 - corpus.length));
  await mkdir(join(target, "qrels"), { recursive: true });
  await writeFile(join(target, "corpus.jsonl"), `${corpus.join("\n")}\n`);
  await writeFile(join(target, "queries-train.jsonl"), `${chosen.join("\n")}\n`);
  await writeFile(join(target, "qrels", "train.tsv"), `${qrelsLines[0]}\n${qrels.join("\n")}\n`);
  return { queries: chosen.length, documents: corpus.length };
}

describe.skipIf(scifact === undefined)("retrieval evaluation on a SciFact subset", () => {
  let directory: string;
  let dataset: string;
  let embedder: Embedder;

  beforeAll(async () => {
    directory = await mkdtemp(join(tmpdir(), "eval-harness-"));
    dataset = join(directory, "scifact-mini");
    const written = await writeSubset(scifact as string, dataset);
    expect(written).toEqual({ queries: 30, documents: 200 });
    embedder = await createEmbedder("static");
  }, 120_000);

  afterAll(async () => {
    await embedder?.[Symbol.asyncDispose]();
    await rm(directory, { recursive: true, force: true });
  });

  it("ingests once, scores all three modes, and reuses the store on the next run", async () => {
    const store = `lancedb:${join(directory, "store")}`;
    const first = await runRetrievalEvaluation({
      dataset,
      split: "train",
      modes: ["lexical", "dense", "hybrid"],
      store,
      embedder,
    });
    expect(first.queries).toBe(30);
    expect(first.ingest.documentsRead).toBe(200);
    expect(first.ingest.chunksWritten).toBeGreaterThanOrEqual(200);
    expect(first.results.map((result) => result.mode)).toEqual(["lexical", "dense", "hybrid"]);
    for (const result of first.results) {
      expect(result.perQuery).toHaveLength(30);
      for (const value of Object.values(result.metrics)) {
        expect(value).toBeGreaterThanOrEqual(0);
        expect(value).toBeLessThanOrEqual(1);
      }
      // 200 documents and a 100-document depth: recall@100 can only grow from recall@10.
      expect(result.metrics.recallAt100).toBeGreaterThanOrEqual(result.metrics.recallAt10);
      expect(result.latency.p95Ms).toBeGreaterThanOrEqual(result.latency.p50Ms);
      expect(result.perQuery.every((outcome) => new Set(outcome.documents).size === outcome.documents.length)).toBe(
        true,
      );
    }
    // On an easy 200-document subset BM25 over title + abstract finds most answers.
    const lexical = first.results[0];
    expect(lexical?.metrics.ndcgAt10).toBeGreaterThan(0.6);

    const second = await runRetrievalEvaluation({ dataset, split: "train", modes: ["lexical"], store, embedder });
    expect(second.ingest.chunksWritten).toBe(0);
    expect(second.ingest.chunksUnchanged).toBe(first.ingest.chunksWritten);
    expect(second.results[0]?.metrics).toEqual(lexical?.metrics);
  }, 180_000);

  it("evaluates a GGUF reranker after each mode and reports its latency", async () => {
    const reranker = await createLlamaCppReranker({ source: await tinyModelPath("reranker"), threads: 1 });
    try {
      const result = await runRetrievalEvaluation({
        dataset,
        split: "train",
        modes: ["lexical"],
        store: `lancedb:${join(directory, "store")}`,
        embedder,
        reranker,
        limitQueries: 5,
        settings: { rerankCandidates: 20 },
      });
      expect(result.results.map((entry) => [entry.mode, entry.reranker])).toEqual([
        ["lexical", null],
        ["lexical", reranker.id],
      ]);
      const reranked = result.results[1];
      expect(reranked?.queries).toBe(5);
      expect(reranked?.rerankLatency.p50Ms).toBeGreaterThan(0);
      // Only the reranker's candidates are kept.
      expect(reranked?.perQuery.every((outcome) => outcome.documents.length <= 20)).toBe(true);
    } finally {
      await reranker[Symbol.asyncDispose]();
    }
  }, 180_000);

  it("runs from the CLI: one JSON object on stdout and a Markdown report", async () => {
    const report = join(directory, "report.md");
    const { stdout } = await run(
      process.execPath,
      [
        join(projectRoot, "bin", "llm-twin.js"),
        "eval",
        "retrieval",
        "--dataset",
        dataset,
        "--split",
        "train",
        "--mode",
        "hybrid",
        "--json",
        "--store",
        `lancedb:${join(directory, "store")}`,
        "--report",
        report,
        "--limit-queries",
        "10",
        "--progress",
        "none",
      ],
      { cwd: projectRoot, env: { ...process.env, LLM_TWIN_FROM_SOURCE: "1" }, timeout: 120_000 },
    );
    const parsed = JSON.parse(stdout) as {
      queries: number;
      report: string;
      results: { mode: string; metrics: Record<string, number>; latency: Record<string, number> }[];
    };
    expect(parsed.queries).toBe(10);
    expect(parsed.report).toBe(report);
    expect(parsed.results).toHaveLength(1);
    expect(parsed.results[0]?.mode).toBe("hybrid");
    expect(Object.keys(parsed.results[0]?.metrics ?? {})).toEqual(
      expect.arrayContaining(["ndcgAt10", "recallAt10", "recallAt100", "mrrAt10"]),
    );
    const markdown = await readFile(report, "utf8");
    expect(markdown).toMatch(/\| hybrid \| 0\.\d{4} \|/);
  }, 180_000);

  it("names a missing split in its error", async () => {
    await expect(
      runRetrievalEvaluation({
        dataset,
        split: "dev",
        modes: ["lexical"],
        store: `lancedb:${join(directory, "x")}`,
        embedder,
      }),
    ).rejects.toThrow(/queries-dev\.jsonl/);
  });
});
