import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { axisVector, contractChunk, runVectorStoreContract } from "../contract.js";
import { openVectorStore } from "../open.js";
import { createFakeQdrant } from "./fake-qdrant.js";
import { encodeDocument, encodeQuery, termIndex, tokenize } from "./sparse.js";
import { openQdrantStore } from "./store.js";

const liveUrl = process.env.QDRANT_URL;

if (liveUrl === undefined || liveUrl.length === 0) {
  describe("VectorStore contract: qdrant (live server)", () => {
    it.skip("skipped: this machine has no Qdrant server; set QDRANT_URL=http://localhost:6333 to run it", () => {});
  });
} else {
  // Each test uses its own collection prefix, so runs never touch other data on the server.
  runVectorStoreContract("qdrant (live server)", () =>
    openVectorStore(`qdrant:${liveUrl}`, {
      qdrant: { collectionPrefix: `llm_twin_test_${randomBytes(4).toString("hex")}_` },
    }),
  );
}

runVectorStoreContract("qdrant adapter on an in-memory fake server", () =>
  openQdrantStore({ url: "http://fake-qdrant.invalid", client: createFakeQdrant() }),
);

describe("Qdrant requests", () => {
  it("creates collections with a named cosine vector, an IDF sparse vector and keyword indexes", async () => {
    const fake = createFakeQdrant();
    const store = await openQdrantStore({ url: "http://fake", client: fake });
    await store.ensureCollections(8);
    const creations = fake.requests.filter((request) => request.method === "createCollection");
    expect(creations.map((request) => request.collection)).toEqual([
      "embedded_articles",
      "embedded_posts",
      "embedded_repositories",
    ]);
    expect(creations[0]?.body).toEqual({
      vectors: { dense: { size: 8, distance: "Cosine" } },
      sparse_vectors: { sparse: { modifier: "idf" } },
    });
    const indexes = fake.requests.filter((request) => request.method === "createPayloadIndex");
    expect(indexes.slice(0, 2).map((request) => request.body)).toEqual([
      { field_name: "author_id", field_schema: "keyword", wait: true },
      { field_name: "document_id", field_schema: "keyword", wait: true },
    ]);
  });

  it("queries hybrid as a dense and a sparse prefetch fused with rrf, the author filter in each", async () => {
    const fake = createFakeQdrant();
    const store = await openQdrantStore({ url: "http://fake", client: fake });
    await store.upsert([contractChunk({ name: "one", text: "Hybrid retrieval" })]);
    await store.search({
      category: "articles",
      mode: "hybrid",
      vector: axisVector(0),
      text: "hybrid retrieval",
      filter: { authorId: "author-paul" },
      limit: 3,
    });
    const query = fake.requests.findLast((request) => request.method === "query")?.body as Record<string, unknown>;
    const filter = { must: [{ key: "author_id", match: { value: "author-paul" } }] };
    expect(query.query).toEqual({ fusion: "rrf" });
    expect(query.limit).toBe(3);
    expect(query.prefetch).toEqual([
      { query: Array.from(axisVector(0)), using: "dense", params: { hnsw_ef: 128 }, limit: 40, filter },
      { query: encodeQuery("hybrid retrieval"), using: "sparse", limit: 40, filter },
    ]);
  });

  it("sends explicit weights and k as a parameterised rrf query", async () => {
    const fake = createFakeQdrant();
    const store = await openQdrantStore({ url: "http://fake", client: fake });
    await store.upsert([contractChunk({ name: "one", text: "Hybrid retrieval" })]);
    await store.search({
      category: "articles",
      mode: "hybrid",
      vector: axisVector(0),
      text: "hybrid",
      limit: 3,
      hybrid: { denseWeight: 0.7, rrfK: 20 },
    });
    const query = fake.requests.findLast((request) => request.method === "query")?.body as Record<string, unknown>;
    expect(query.query).toEqual({ rrf: { k: 20, weights: [0.7, expect.closeTo(0.3, 10)] } });
  });

  it("upserts points keyed by chunk id with dense and sparse vectors and the chunk payload", async () => {
    const fake = createFakeQdrant();
    const store = await openQdrantStore({ url: "http://fake", client: fake, upsertBatchSize: 2 });
    const chunks = [0, 1, 2].map((position) => contractChunk({ name: `p${position}`, index: position }));
    await store.upsert(chunks);
    const upserts = fake.requests.filter((request) => request.method === "upsert");
    expect(upserts).toHaveLength(2);
    const body = upserts[0]?.body as { wait: boolean; points: Record<string, unknown>[] };
    const first = body.points[0];
    expect(body.wait).toBe(true);
    expect(first?.id).toBe(chunks[0]?.id);
    expect(first?.vector).toEqual({
      dense: Array.from(chunks[0]?.vector ?? []),
      sparse: encodeDocument(chunks[0]?.text ?? ""),
    });
    expect(first?.payload).toMatchObject({
      document_id: chunks[0]?.documentId,
      author_id: "author-paul",
      chunk_index: 0,
    });
  });

  it("reads the API key from LLM_TWIN_QDRANT_API_KEY", async () => {
    const store = await openVectorStore("qdrant:http://localhost:6333", { env: { LLM_TWIN_QDRANT_API_KEY: "secret" } });
    expect(store.kind).toBe("qdrant");
    expect(store.location).toBe("qdrant:http://localhost:6333");
  });
});

describe("sparse term vectors", () => {
  it("lower-cases, folds accents and drops stop words", () => {
    expect(tokenize("The Café of MLOps: feature-stores, RAG & LLMs!")).toEqual([
      "cafe",
      "mlops",
      "feature",
      "stores",
      "rag",
      "llms",
    ]);
  });

  it("hashes terms to stable unsigned 32-bit indices", () => {
    expect(termIndex("rag")).toBe(termIndex("rag"));
    expect(termIndex("rag")).not.toBe(termIndex("rags"));
    expect(termIndex("a".repeat(40))).toBeGreaterThanOrEqual(0);
    expect(termIndex("a".repeat(40))).toBeLessThan(2 ** 32);
  });

  it("gives repeated terms saturating BM25 weights, sorted by index", () => {
    const vector = encodeDocument("rag rag rag pipeline");
    const rag = vector.values[vector.indices.indexOf(termIndex("rag"))] ?? 0;
    const pipeline = vector.values[vector.indices.indexOf(termIndex("pipeline"))] ?? 0;
    expect(rag).toBeGreaterThan(pipeline);
    expect(rag).toBeLessThan(3 * pipeline);
    expect([...vector.indices]).toEqual([...vector.indices].sort((left, right) => left - right));
    expect(encodeQuery("rag rag pipeline").values).toEqual([1, 1]);
  });
});
