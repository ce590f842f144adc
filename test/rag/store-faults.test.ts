/**
 * #13 item 4 at the HTTP edge: store files corrupted under a running RAG service make /retrieve
 * answer 503 and /ready 503; once a clean copy is back, the very next /retrieve answers 200 and
 * /ready 200, without a restart (the failed reads dropped the cached table handles).
 */
import { cp, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { EmbeddedChunk } from "../../src/domain/index.js";
import { createTracer, openTraceLog } from "../../src/observability/tracing/index.js";
import { createFingerprint } from "../../src/preprocessing/index.js";
import { resolveRagConfig } from "../../src/rag/config.js";
import { buildRagApp, DEFAULT_RAG_HTTP_CONFIG } from "../../src/rag/http/app.js";
import { createReadinessCheck } from "../../src/rag/readiness.js";
import { fakeEmbedder, fakeLanguageModel, sampleChunks } from "../../src/rag/testing/fakes.js";
import { openVectorStore } from "../../src/vector-store/index.js";

const directories: string[] = [];
afterAll(async () => {
  await Promise.all(directories.map((directory) => rm(directory, { recursive: true, force: true })));
});

async function lanceFiles(directory: string): Promise<string[]> {
  const entries = await readdir(directory, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile() && entry.name.endsWith(".lance"))
    .map((entry) => join(entry.parentPath, entry.name));
}

describe("RAG service over a LanceDB store whose files are corrupted and restored", () => {
  it("answers 503 while broken and 200 on the next request once restored, /ready following", async () => {
    const root = await mkdtemp(join(tmpdir(), "llm-twin-store-faults-"));
    directories.push(root);
    const directory = join(root, "store");
    const backup = join(root, "backup");
    const embedder = fakeEmbedder();
    const fingerprint = createFingerprint(embedder);
    const chunks = sampleChunks();
    const vectors = await embedder.embed(chunks.map((chunk) => chunk.text));
    const writer = await openVectorStore(`lancedb:${directory}`);
    await writer.upsert(chunks.map((chunk, index) => ({ ...chunk, vector: vectors[index] }) as EmbeddedChunk));
    const now = new Date().toISOString();
    await writer.writeMetadata({ fingerprint, createdAt: now, updatedAt: now });
    await writer.optimize();
    await writer[Symbol.asyncDispose]();
    await cp(directory, backup, { recursive: true });

    const store = await openVectorStore(`lancedb:${directory}`);
    const llm = fakeLanguageModel();
    const traceLog = await openTraceLog({ capacity: 10 });
    const app = await buildRagApp({
      deps: { store, embedder, llm, config: resolveRagConfig({ expandQueries: 1 }) },
      http: { ...DEFAULT_RAG_HTTP_CONFIG, rateLimit: false },
      tracer: createTracer([traceLog]),
      traceLog,
      readiness: createReadinessCheck({ store, llm, expectedFingerprintHash: fingerprint.hash, timeoutMs: 5_000 }),
    });
    try {
      const retrieve = () =>
        app.inject({ method: "POST", url: "/retrieve", payload: { query: "feature pipelines and vector databases" } });
      const ready = () => app.inject({ method: "GET", url: "/ready" });
      const healthy = await retrieve();
      expect(healthy.statusCode).toBe(200);
      expect(healthy.json<{ sources: unknown[] }>().sources.length).toBeGreaterThan(0);
      expect((await ready()).statusCode).toBe(200);

      for (const file of await lanceFiles(directory)) await writeFile(file, "not a lance file any more");
      expect((await retrieve()).statusCode).toBe(503);
      const notReady = await ready();
      expect(notReady.statusCode).toBe(503);
      expect(notReady.body).toContain("store");

      await rm(directory, { recursive: true, force: true });
      await cp(backup, directory, { recursive: true });
      const recovered = await retrieve();
      expect(recovered.statusCode).toBe(200);
      expect(recovered.json<{ sources: unknown[] }>().sources.length).toBeGreaterThan(0);
      expect((await ready()).statusCode).toBe(200);
    } finally {
      await app.close();
      await store[Symbol.asyncDispose]();
    }
  });
});
