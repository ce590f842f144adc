/**
 * Invalidation on ingest with a real LanceDB store: an answer cached at one store version is not
 * served after another writer (an `ingest` process) adds or deletes documents.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { Chunk } from "../../src/domain/index.js";
import type { Embedder } from "../../src/embedding/index.js";
import { createTracer, openTraceLog } from "../../src/observability/tracing/index.js";
import { createFingerprint } from "../../src/preprocessing/index.js";
import { createAnswerCacheMetrics, createMemoryAnswerCache, storeVersion } from "../../src/rag/cache/index.js";
import { resolveRagConfig } from "../../src/rag/config.js";
import { buildRagApp, DEFAULT_RAG_HTTP_CONFIG } from "../../src/rag/http/app.js";
import { createRagMetrics } from "../../src/rag/http/rag-metrics.js";
import { fakeEmbedder, fakeLanguageModel, makeChunk, PAUL, sampleChunks } from "../../src/rag/testing/fakes.js";
import { openVectorStore, type VectorStore } from "../../src/vector-store/index.js";

const directories: string[] = [];
afterAll(async () => {
  await Promise.all(directories.map((directory) => rm(directory, { recursive: true, force: true })));
});

async function ingest(store: VectorStore, embedder: Embedder, chunks: readonly Chunk[]): Promise<void> {
  const vectors = await embedder.embed(chunks.map((chunk) => chunk.text));
  await store.upsert(chunks.map((chunk, index) => ({ ...chunk, vector: vectors[index] as Float32Array })));
}

describe("answer cache on a LanceDB store", () => {
  it("misses after another writer ingests or deletes documents (the store's version changed)", async () => {
    const directory = await mkdtemp(join(tmpdir(), "llm-twin-answer-cache-"));
    directories.push(directory);
    const embedder = fakeEmbedder();
    const store = await openVectorStore(`lancedb:${directory}`);
    const now = new Date().toISOString();
    await store.writeMetadata({ fingerprint: createFingerprint(embedder), createdAt: now, updatedAt: now });
    await ingest(store, embedder, sampleChunks());

    const llm = fakeLanguageModel();
    const metrics = createRagMetrics();
    const cache = createMemoryAnswerCache({ maxEntries: 100, ttlMs: 60_000 });
    const traceLog = await openTraceLog({ capacity: 10 });
    const app = await buildRagApp({
      deps: {
        store,
        embedder,
        llm,
        config: resolveRagConfig({ expandQueries: 1 }),
        answerCache: {
          cache,
          minSimilarity: 0.95,
          maxTemperature: 0.3,
          metrics: createAnswerCacheMetrics(metrics.http.registry, cache),
        },
      },
      http: { ...DEFAULT_RAG_HTTP_CONFIG, rateLimit: false },
      tracer: createTracer([traceLog]),
      traceLog,
      metrics,
      readiness: async () => ({ ready: true, reasons: [], checks: {} }),
    });
    const ask = async () => {
      const response = await app.inject({
        method: "POST",
        url: "/rag",
        payload: { query: "How do RAG pipelines work?" },
      });
      expect(response.statusCode).toBe(200);
      return response.json<{ cached?: boolean; sources: { id: string }[] }>();
    };

    const writer = await openVectorStore(`lancedb:${directory}`);
    try {
      // The first lexical search builds the full-text index, which is a new table version too.
      await app.inject({ method: "POST", url: "/retrieve", payload: { query: "warm up" } });
      const before = await storeVersion(store);
      expect((await ask()).cached).toBeUndefined();
      expect((await ask()).cached).toBe(true);

      await ingest(writer, embedder, [
        makeChunk("c9", PAUL, "articles", "New article: RAG pipelines with rerankers and hybrid search."),
      ]);
      expect(await storeVersion(store)).not.toBe(before);
      const afterIngest = await ask();
      expect(afterIngest.cached).toBeUndefined();
      expect((await ask()).cached).toBe(true);

      await writer.deleteDocument("articles", "doc-c9");
      expect((await ask()).cached).toBeUndefined();
      expect(llm.requests.length).toBe(3);
    } finally {
      await app.close();
      await writer[Symbol.asyncDispose]();
      await store[Symbol.asyncDispose]();
    }
  });
});
