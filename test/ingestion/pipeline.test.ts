import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createEmbedder, createStaticEmbedder, type Embedder } from "../../src/embedding/index.js";
import { AppError } from "../../src/errors/index.js";
import { tinyModelPath } from "../../src/gguf/index.js";
import { ingest, listArtifacts } from "../../src/ingestion/index.js";
import { requireSharedDataset } from "../../src/testing/shared-datasets.js";
import { openVectorStore } from "../../src/vector-store/index.js";
import { expectedChunks, readArticleRecords, snapshotLanceDb, temporaryDirectory, writeJson } from "./helpers.js";

const articlesPath = requireSharedDataset("llm-twin", "articles.json");

describe.skipIf(articlesPath === undefined)(
  "ingestion pipeline on the real articles (LanceDB, static embedder)",
  () => {
    let embedder: Embedder;
    let workspace: Awaited<ReturnType<typeof temporaryDirectory>>;
    const source = articlesPath as string;

    beforeAll(async () => {
      embedder = await createEmbedder("static");
      workspace = await temporaryDirectory("pipeline");
    });
    afterAll(async () => {
      await embedder?.[Symbol.asyncDispose]();
      await workspace?.remove();
    });

    it("ingests the 76 articles, then a second run writes nothing", async () => {
      const storeDirectory = join(workspace.path, "all-articles");
      const store = await openVectorStore(`lancedb:${storeDirectory}`);
      try {
        const expected = await expectedChunks(source, embedder);
        const expectedCount = [...expected.values()].reduce((sum, ids) => sum + ids.length, 0);
        const first = await ingest({ source, store, embedder, artifactsDir: join(workspace.path, "artifacts-all") });
        expect(first.documentsRead).toBe(76);
        expect(first.documentsSkipped).toEqual([]);
        expect(first.chunksWritten).toBe(expectedCount);
        expect(first.chunksUnchanged).toBe(0);
        expect(await store.count("articles")).toBe(expectedCount);
        const authors = (await store.listAuthors()).map((author) => author.fullName).sort();
        expect(authors).toEqual(["Maxime Labonne", "Paul Iusztin"]);
        const stored = await store.chunkIdsByDocument("articles", [...expected.keys()]);
        for (const [documentId, ids] of expected)
          expect([...(stored.get(documentId) ?? [])].sort()).toEqual([...ids].sort());

        const before = await snapshotLanceDb(storeDirectory);
        // Every stored chunk fits the embedder's input limit, as the embedder itself counts it.
        for (const row of before) expect(embedder.countTokens(row.text)).toBeLessThanOrEqual(embedder.maxInputTokens);
        for (const row of before) expect(Math.hypot(...row.vector)).toBeCloseTo(1, 4);
        const second = await ingest({ source, store, embedder, artifactsDir: join(workspace.path, "artifacts-all") });
        expect(second).toMatchObject({
          documentsRead: 76,
          documentsUnchanged: 76,
          chunksWritten: 0,
          chunksUnchanged: expectedCount,
          chunksDeleted: 0,
        });
        expect(second.artifact).toMatchObject({ version: first.artifact?.version, created: false });
        expect(await store.count()).toBe(expectedCount);
        expect(await snapshotLanceDb(storeDirectory)).toEqual(before);
      } finally {
        await store[Symbol.asyncDispose]();
      }
    });

    describe("on a small subset", () => {
      let records: Awaited<ReturnType<typeof readArticleRecords>>;
      beforeAll(async () => {
        records = (await readArticleRecords(source)).slice(0, 6);
      });

      it("re-embeds only a changed document and deletes its stale chunks; artifacts get a new version with a parent", async () => {
        const storeDirectory = join(workspace.path, "changed");
        const artifactsDir = join(workspace.path, "artifacts-changed");
        const original = await writeJson(join(workspace.path, "original.json"), records);
        const store = await openVectorStore(`lancedb:${storeDirectory}`);
        try {
          const first = await ingest({ source: original, store, embedder, artifactsDir, batchSize: 8 });
          const changedRecords = structuredClone(records);
          const target = changedRecords[2] as (typeof records)[number];
          target.content.Content = `${target.content.Content.slice(0, Math.floor(target.content.Content.length / 2))}\n\nA new closing paragraph about vector databases and retrieval.`;
          const changed = await writeJson(join(workspace.path, "changed.json"), changedRecords);
          const expected = await expectedChunks(changed, embedder);
          const second = await ingest({ source: changed, store, embedder, artifactsDir, batchSize: 8 });
          expect(second.documentsUnchanged).toBe(5);
          expect(second.chunksWritten).toBeGreaterThan(0);
          expect(second.chunksDeleted).toBeGreaterThan(0);
          const total = [...expected.values()].reduce((sum, ids) => sum + ids.length, 0);
          expect(await store.count()).toBe(total);
          const stored = await store.chunkIdsByDocument("articles", [target._id]);
          expect([...(stored.get(target._id) ?? [])].sort()).toEqual([...(expected.get(target._id) ?? [])].sort());
          expect(second.artifact?.created).toBe(true);
          expect(second.artifact?.version).not.toBe(first.artifact?.version);
          expect(second.artifact?.parent).toBe(first.artifact?.version);
          const listed = await listArtifacts(artifactsDir);
          expect(listed.map((listing) => listing.manifest.version)).toEqual([
            first.artifact?.version,
            second.artifact?.version,
          ]);
          expect(listed[1]?.latest).toBe(true);
          expect(listed[1]?.manifest.documents).toMatchObject({
            count: 6,
            byCategory: { articles: 6, posts: 0, repositories: 0 },
          });
          expect(listed[1]?.manifest.sources).toEqual([
            expect.objectContaining({ file: changed, sha256: expect.stringMatching(/^[0-9a-f]{64}$/) }),
          ]);
        } finally {
          await store[Symbol.asyncDispose]();
        }
      });

      it("refuses another embedder configuration with what differs, and --recreate rebuilds", async () => {
        const input = await writeJson(join(workspace.path, "fingerprint.json"), records.slice(0, 3));
        const store = await openVectorStore(`lancedb:${join(workspace.path, "fingerprint")}`);
        const other = await createStaticEmbedder({ maxInputTokens: 300 });
        try {
          const first = await ingest({ source: input, store, embedder });
          const refused = await ingest({ source: input, store, embedder: other }).catch((error: unknown) => error);
          expect(refused).toBeInstanceOf(AppError);
          expect((refused as AppError).code).toBe("fingerprint_mismatch");
          expect((refused as AppError).message).toContain("embedder.maxInputTokens: 512 → 300");
          expect((refused as AppError).message).toContain("--recreate");
          expect(await store.count()).toBe(first.chunksWritten);
          const rebuilt = await ingest({ source: input, store, embedder: other, recreate: true });
          expect(rebuilt.recreated).toBe(true);
          expect(rebuilt.chunksUnchanged).toBe(0);
          expect(await store.count()).toBe(rebuilt.chunksWritten);
          expect((await store.readMetadata())?.fingerprint.embedder.maxInputTokens).toBe(300);
          const again = await ingest({ source: input, store, embedder: other });
          expect(again.chunksWritten).toBe(0);
        } finally {
          await other[Symbol.asyncDispose]();
          await store[Symbol.asyncDispose]();
        }
      });

      it("reports malformed records with file, index and reason, and ingests the rest", async () => {
        const good = records.slice(0, 2);
        const input = await writeJson(join(workspace.path, "mixed.json"), [
          good[0],
          { _id: "broken", content: "not an object" },
          42,
          good[1],
          good[0],
        ]);
        const store = await openVectorStore(`lancedb:${join(workspace.path, "mixed")}`);
        try {
          const summary = await ingest({ source: input, store, embedder });
          expect(summary.documentsRead).toBe(2);
          expect(summary.documentsSkipped.map((skipped) => [skipped.file, skipped.index])).toEqual([
            [input, 1],
            [input, 2],
            [input, 4],
          ]);
          for (const skipped of summary.documentsSkipped) expect(skipped.reason.length).toBeGreaterThan(0);
          expect(summary.documentsSkipped[2]?.reason).toMatch(/duplicate/);
        } finally {
          await store[Symbol.asyncDispose]();
        }
      });

      it("ingests through a GGUF embedder (gguf:<path>), every chunk within its token limit", async () => {
        const modelPath = await tinyModelPath("chat");
        const gguf = await createEmbedder(`gguf:${modelPath}`, { maxInputTokens: 256, threads: 1 });
        const input = await writeJson(join(workspace.path, "gguf.json"), records.slice(0, 1));
        const store = await openVectorStore(`lancedb:${join(workspace.path, "gguf")}`);
        try {
          expect(gguf.id).toMatch(/^gguf:/);
          const summary = await ingest({ source: input, store, embedder: gguf });
          expect(summary.embedder).toBe(gguf.id);
          expect(summary.chunksWritten).toBeGreaterThan(1);
          expect(await store.count()).toBe(summary.chunksWritten);
          const [hit] = await store.search({
            category: "articles",
            mode: "dense",
            vector: (await gguf.embed(["retrieval"]))[0] as Float32Array,
            limit: 50,
          });
          expect(hit?.chunk.tokenCount).toBeLessThanOrEqual(256);
          const metadata = await store.readMetadata();
          expect(metadata?.fingerprint.embedder).toEqual({
            id: gguf.id,
            dimensions: gguf.dimensions,
            maxInputTokens: 256,
          });
        } finally {
          await store[Symbol.asyncDispose]();
          await gguf[Symbol.asyncDispose]();
        }
      });

      it("stops on an aborted signal with code aborted", async () => {
        const input = await writeJson(join(workspace.path, "abort.json"), records);
        const store = await openVectorStore(`lancedb:${join(workspace.path, "abort")}`);
        try {
          const controller = new AbortController();
          controller.abort();
          await expect(ingest({ source: input, store, embedder, signal: controller.signal })).rejects.toMatchObject({
            code: "aborted",
          });
        } finally {
          await store[Symbol.asyncDispose]();
        }
      });
    });
  },
);
