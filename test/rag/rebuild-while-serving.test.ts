/**
 * #13 item 23 at the HTTP edge: a RAG service answers /retrieve under load (4 clients) while the
 * feature pipeline rebuilds its LanceDB store (`ingest --recreate`) and then re-ingests changed
 * documents: 0 failed and 0 empty answers, and the new contents are served without a restart.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ingest } from "../../src/ingestion/index.js";
import { createTracer, openTraceLog } from "../../src/observability/tracing/index.js";
import { createFingerprint } from "../../src/preprocessing/index.js";
import { resolveRagConfig } from "../../src/rag/config.js";
import { buildRagApp, DEFAULT_RAG_HTTP_CONFIG } from "../../src/rag/http/app.js";
import { createReadinessCheck } from "../../src/rag/readiness.js";
import { fakeEmbedder, fakeLanguageModel } from "../../src/rag/testing/fakes.js";
import { openVectorStore } from "../../src/vector-store/index.js";
import { temporaryDirectory, writeJson } from "../ingestion/helpers.js";

const SAMPLE = join(import.meta.dirname, "../../sample-data/articles.json");
const CLIENTS = 4;
let workspace: Awaited<ReturnType<typeof temporaryDirectory>> | undefined;
afterAll(async () => {
  await workspace?.remove();
});

describe("RAG service while the store is rebuilt and re-ingested", () => {
  it("answers every /retrieve with sources through ingest --recreate and an incremental re-ingest", async () => {
    workspace = await temporaryDirectory("rebuild-serving");
    const records = JSON.parse(await readFile(SAMPLE, "utf8")) as { content: { Content: string } }[];
    for (const record of records.slice(0, 2)) record.content.Content += "\n\nA new paragraph on the quetzal benchmark.";
    const changed = await writeJson(join(workspace.path, "changed.json"), records);
    const uri = `lancedb:${join(workspace.path, "store")}`;
    const embedder = fakeEmbedder();
    const writer = await openVectorStore(uri);
    await ingest({ source: SAMPLE, store: writer, embedder });

    const store = await openVectorStore(uri);
    const llm = fakeLanguageModel();
    const traceLog = await openTraceLog({ capacity: 10 });
    const app = await buildRagApp({
      deps: { store, embedder, llm, config: resolveRagConfig({ expandQueries: 1 }) },
      http: { ...DEFAULT_RAG_HTTP_CONFIG, rateLimit: false },
      tracer: createTracer([traceLog]),
      traceLog,
      readiness: createReadinessCheck({
        store,
        llm,
        expectedFingerprintHash: createFingerprint(embedder).hash,
        timeoutMs: 5_000,
      }),
    });
    const tally = { ok: 0, failed: 0, empty: 0, statuses: new Set<number>() };
    let running = true;
    const client = async () => {
      while (running) {
        const response = await app.inject({
          method: "POST",
          url: "/retrieve",
          payload: { query: "chunking for RAG retrieval" },
        });
        if (response.statusCode !== 200) {
          tally.failed++;
          tally.statuses.add(response.statusCode);
        } else if (response.json<{ sources: unknown[] }>().sources.length === 0) tally.empty++;
        else tally.ok++;
        await new Promise((resolve) => setImmediate(resolve));
      }
    };
    try {
      expect((await app.inject({ method: "GET", url: "/ready" })).statusCode).toBe(200);
      const clients = Array.from({ length: CLIENTS }, client);
      const rebuilt = await ingest({ source: SAMPLE, store: writer, embedder, recreate: true });
      const reingested = await ingest({ source: changed, store: writer, embedder });
      running = false;
      await Promise.all(clients);
      expect(rebuilt.recreated).toBe(true);
      expect(reingested.chunksWritten).toBeGreaterThan(0);
      expect({ failed: tally.failed, empty: tally.empty, statuses: [...tally.statuses] }).toEqual({
        failed: 0,
        empty: 0,
        statuses: [],
      });
      expect(tally.ok).toBeGreaterThan(CLIENTS);
      const fresh = await app.inject({ method: "POST", url: "/retrieve", payload: { query: "quetzal benchmark" } });
      expect(
        fresh.json<{ sources: { text: string }[] }>().sources.some((source) => source.text.includes("quetzal")),
      ).toBe(true);
      expect((await app.inject({ method: "GET", url: "/ready" })).statusCode).toBe(200);
    } finally {
      running = false;
      await app.close();
      await store[Symbol.asyncDispose]();
      await writer[Symbol.asyncDispose]();
    }
  });
});
