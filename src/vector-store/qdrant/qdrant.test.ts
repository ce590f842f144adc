import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { axisVector, contractChunk, runVectorStoreContract } from "../contract.js";
import { openVectorStore } from "../open.js";
import type { VectorStore } from "../port.js";
import type { QdrantTransport } from "./rest.js";
import { encodeDocument, encodeQuery, termIndex, tokenize } from "./sparse.js";
import { openQdrantStore } from "./store.js";
import { checkedFakeQdrant } from "./testing.js";

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

{
  // A second store on the same fake server plays another process's reader.
  const transports = new Map<VectorStore, QdrantTransport>();
  runVectorStoreContract(
    "qdrant adapter on the schema-checked fake server",
    async () => {
      const { transport } = checkedFakeQdrant();
      const store = await openQdrantStore({ url: "http://fake-qdrant.invalid", transport });
      transports.set(store, transport);
      return store;
    },
    {
      reopen: async (store) =>
        openQdrantStore({ url: "http://fake-qdrant.invalid", transport: transports.get(store) as QdrantTransport }),
    },
  );
}

describe("Qdrant requests", () => {
  it("creates versioned collections behind aliases, with a cosine vector, an IDF sparse vector and keyword indexes", async () => {
    const fake = checkedFakeQdrant();
    const store = await openQdrantStore({ url: "http://fake", transport: fake.transport });
    await store.ensureCollections(8);
    const creations = fake.requests.filter((request) => request.operation === "create_collection");
    expect(creations.map((request) => request.collection)).toEqual([
      expect.stringMatching(/^embedded_articles_g\d{8}t\d{6}_[0-9a-f]{4}$/),
      expect.stringMatching(/^embedded_posts_g/),
      expect.stringMatching(/^embedded_repositories_g/),
    ]);
    expect(creations[0]?.body).toEqual({
      vectors: { dense: { size: 8, distance: "Cosine" } },
      sparse_vectors: { sparse: { modifier: "idf" } },
      shard_number: 1,
    });
    expect([...fake.aliases().keys()].sort()).toEqual(["embedded_articles", "embedded_posts", "embedded_repositories"]);
    const indexes = fake.requests.filter((request) => request.operation === "create_field_index");
    expect(indexes.slice(0, 2).map((request) => request.body)).toEqual([
      { field_name: "author_id", field_schema: "keyword" },
      { field_name: "document_id", field_schema: "keyword" },
    ]);
  });

  it("queries hybrid as one batch of a dense and a sparse search, the author filter in each, fused client-side", async () => {
    const fake = checkedFakeQdrant();
    const store = await openQdrantStore({ url: "http://fake", transport: fake.transport });
    await store.upsert([contractChunk({ name: "one", text: "Hybrid retrieval" })]);
    const hits = await store.search({
      category: "articles",
      mode: "hybrid",
      vector: axisVector(0),
      text: "hybrid retrieval",
      filter: { authorId: "author-paul" },
      limit: 3,
      hybrid: { fusion: "rrf", denseWeight: 0.2, rrfK: 3 },
    });
    const batch = fake.requests.find((request) => request.operation === "query_batch_points")?.body as {
      searches: Record<string, unknown>[];
    };
    const filter = { must: [{ key: "author_id", match: { value: "author-paul" } }] };
    expect(batch.searches).toEqual([
      {
        query: Array.from(axisVector(0)),
        using: "dense",
        params: { hnsw_ef: 128 },
        limit: 40,
        with_payload: false,
        with_vector: false,
        filter,
      },
      {
        query: encodeQuery("hybrid retrieval"),
        using: "sparse",
        limit: 40,
        with_payload: false,
        with_vector: false,
        filter,
      },
    ]);
    // Ranked first in both lists: 0.2 / (3 + 1) + 0.8 / (3 + 1), the project's fusion.
    expect(hits[0]?.score).toBeCloseTo(0.25, 10);
  });

  it("upserts points keyed by chunk id with dense and sparse vectors and the chunk payload", async () => {
    const fake = checkedFakeQdrant();
    const store = await openQdrantStore({ url: "http://fake", transport: fake.transport, upsertBatchSize: 2 });
    const chunks = [0, 1, 2].map((position) => contractChunk({ name: `p${position}`, index: position }));
    await store.upsert(chunks);
    const upserts = fake.requests.filter((request) => request.operation === "upsert_points");
    expect(upserts).toHaveLength(2);
    const first = (upserts[0]?.body as { points: Record<string, unknown>[] } | undefined)?.points[0];
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

  it("reads the API key from LLM_TWIN_QDRANT_API_KEY and refuses a non-integer LLM_TWIN_QDRANT_TIMEOUT_MS", async () => {
    await expect(
      openVectorStore("qdrant:http://127.0.0.1:9", { env: { LLM_TWIN_QDRANT_TIMEOUT_MS: "soon" } }),
    ).rejects.toMatchObject({
      code: "configuration_error",
      message: expect.stringContaining("LLM_TWIN_QDRANT_TIMEOUT_MS"),
    });
    await expect(
      openVectorStore("qdrant:http://127.0.0.1:9", { env: { LLM_TWIN_QDRANT_SHARDS: "0" } }),
    ).rejects.toMatchObject({
      code: "configuration_error",
      message: expect.stringContaining("LLM_TWIN_QDRANT_SHARDS"),
    });
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
