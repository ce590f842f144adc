/**
 * The preprocessing worker thread, the knownNew appends and the per-document entry must not change
 * what the store holds: each path is compared with a plain main-thread `ingest` of the project's
 * sample corpus (ids, texts and vectors exactly).
 */
import { readFile, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { snapshotLanceDb, temporaryDirectory } from "../../test/ingestion/helpers.js";
import { createEmbedder, type Embedder } from "../embedding/index.js";
import { openVectorStore } from "../vector-store/index.js";
import { createDocumentIngester } from "./document-ingester.js";
import { ingest } from "./pipeline.js";
import { readRawDocuments } from "./readers/index.js";

const sampleData = resolve(import.meta.dirname, "../../sample-data");
let embedder: Embedder;
let scratch: { path: string; remove(): Promise<void> };

async function ingestInto(directory: string, options: Record<string, unknown>, source = sampleData) {
  const store = await openVectorStore(`lancedb:${directory}`);
  try {
    return await ingest({ source, store, embedder, ...options });
  } finally {
    await store[Symbol.asyncDispose]();
  }
}

beforeAll(async () => {
  embedder = await createEmbedder("static");
  scratch = await temporaryDirectory("preprocess-worker");
});
afterAll(async () => {
  await embedder[Symbol.asyncDispose]();
  await scratch.remove();
});

describe("ingestion paths give the same store", () => {
  it("a preprocessing worker thread writes exactly what the main thread writes, artifacts included", async () => {
    const plain = await ingestInto(join(scratch.path, "plain"), {
      workerThread: "none",
      artifactsDir: join(scratch.path, "artifacts-plain"),
    });
    let workerCpu: { cpuMs: number | null } | undefined;
    const threaded = await ingestInto(join(scratch.path, "threaded"), {
      workerThread: "preprocessing",
      artifactsDir: join(scratch.path, "artifacts-threaded"),
      onPreprocessWorkerClosed: (stats: { cpuMs: number | null }) => {
        workerCpu = stats;
      },
    });
    expect(workerCpu).toBeDefined();
    expect(threaded.chunksWritten).toBe(plain.chunksWritten);
    expect(threaded.documentsRead).toBe(plain.documentsRead);
    expect(threaded.artifact?.version).toBe(plain.artifact?.version);
    expect(plain.chunksWritten).toBeGreaterThan(0);
    expect(await snapshotLanceDb(join(scratch.path, "threaded"))).toEqual(
      await snapshotLanceDb(join(scratch.path, "plain")),
    );
    // An unchanged rerun through the worker writes nothing.
    const rerun = await ingestInto(join(scratch.path, "threaded"), { workerThread: "preprocessing" });
    expect(rerun.chunksWritten).toBe(0);
    expect(rerun.chunksUnchanged).toBe(plain.chunksWritten);
  });

  it("a changed document on an existing store (appends for new documents, merge for changed ones) ends as a fresh ingest", async () => {
    const changedInput = join(scratch.path, "changed");
    const { mkdir, cp } = await import("node:fs/promises");
    await mkdir(changedInput, { recursive: true });
    await cp(sampleData, changedInput, { recursive: true });
    const articlesPath = join(changedInput, "articles.json");
    const articles = JSON.parse(await readFile(articlesPath, "utf8")) as { content: { Content: string } }[];
    const first = articles[0] as { content: { Content: string } };
    first.content.Content = `${first.content.Content}\n\nA closing paragraph added later, so this article gets one more sentence to chunk.`;
    const partial = join(scratch.path, "partial-input");
    await mkdir(partial, { recursive: true });
    // The existing store holds the original articles only; posts and repositories are new to it.
    await cp(join(sampleData, "articles.json"), join(partial, "articles.json"));
    await ingestInto(join(scratch.path, "incremental"), {}, partial);
    await writeFile(articlesPath, JSON.stringify(articles));
    const incremental = await ingestInto(join(scratch.path, "incremental"), {}, changedInput);
    expect(incremental.chunksWritten).toBeGreaterThan(0);
    await ingestInto(join(scratch.path, "fresh"), {}, changedInput);
    expect(await snapshotLanceDb(join(scratch.path, "incremental"))).toEqual(
      await snapshotLanceDb(join(scratch.path, "fresh")),
    );
  });

  it("the per-document entry writes what ingest writes, skips unchanged documents and optimizes only after changes", async () => {
    const directory = join(scratch.path, "documents");
    const store = await openVectorStore(`lancedb:${directory}`);
    try {
      const ingester = await createDocumentIngester({ store, embedder });
      expect(ingester.pendingOptimize).toBe(false);
      let written = 0;
      for await (const result of readRawDocuments(sampleData))
        written += (await ingester.ingestDocument(result)).chunksWritten;
      expect(ingester.pendingOptimize).toBe(true);
      expect(await ingester.optimize()).toBe(true);
      expect(ingester.pendingOptimize).toBe(false);
      expect(await ingester.optimize()).toBe(false);
      let unchanged = 0;
      for await (const result of readRawDocuments(sampleData)) {
        const again = await ingester.ingestDocument(result);
        expect(again.chunksWritten).toBe(0);
        unchanged += again.chunksUnchanged;
      }
      expect(unchanged).toBe(written);
      expect(ingester.pendingOptimize).toBe(false);
      const invalid = await ingester.ingestDocument({ ok: false, source: { file: "x.json", index: 3 }, reason: "bad" });
      expect(invalid.skipped).toBe("bad");
    } finally {
      await store[Symbol.asyncDispose]();
    }
    expect(await snapshotLanceDb(directory)).toEqual(await snapshotLanceDb(join(scratch.path, "plain")));
  });
});
