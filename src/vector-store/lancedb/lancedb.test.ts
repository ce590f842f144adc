import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as lancedb from "@lancedb/lancedb";
import { afterAll, describe, expect, it } from "vitest";
import { AppError } from "../../errors/app-error.js";
import { axisVector, contractChunk, contractId, runVectorStoreContract } from "../contract.js";
import { openVectorStore } from "../open.js";

const directories: string[] = [];

async function temporaryDirectory(): Promise<string> {
  const directory = await mkdtemp(join(tmpdir(), "llm-twin-lancedb-"));
  directories.push(directory);
  return directory;
}

afterAll(async () => {
  await Promise.all(directories.map((directory) => rm(directory, { recursive: true, force: true })));
});

runVectorStoreContract("lancedb", async () => openVectorStore(`lancedb:${await temporaryDirectory()}`), {
  reopen: (store) => openVectorStore(store.location),
});

describe("LanceDB adapter", () => {
  it("reopens a store from disk with its rows and metadata", async () => {
    const directory = await temporaryDirectory();
    const first = await openVectorStore(directory);
    await first.upsert([contractChunk({ name: "persisted" })]);
    await first[Symbol.asyncDispose]();
    const second = await openVectorStore(`lancedb:${directory}`);
    expect(await second.count()).toBe(1);
    await second[Symbol.asyncDispose]();
  });
});

function randomUnitVector(dimensions: number, random: () => number): Float32Array {
  const vector = Float32Array.from({ length: dimensions }, () => random() * 2 - 1);
  const norm = Math.hypot(...vector);
  return vector.map((value) => value / norm);
}

/** A small deterministic generator (mulberry32), so the test data is the same on every run. */
function seededRandom(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let mixed = Math.imul(state ^ (state >>> 15), 1 | state);
    mixed = (mixed + Math.imul(mixed ^ (mixed >>> 7), 61 | mixed)) ^ mixed;
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 4294967296;
  };
}

describe("LanceDB indexes", () => {
  it("builds the ANN index past the threshold and finds the same nearest chunk as brute force", async () => {
    const directory = await temporaryDirectory();
    const store = await openVectorStore(directory, { lancedb: { ann: { threshold: 300 } } });
    const random = seededRandom(7);
    const chunks = Array.from({ length: 400 }, (_, position) => ({
      ...contractChunk({ name: `ann-${position}`, index: position, text: `chunk number ${position}` }),
      vector: randomUnitVector(32, random),
    }));
    await store.upsert(chunks);
    const queries = Array.from({ length: 10 }, () => randomUnitVector(32, random));
    const bruteForce = await Promise.all(
      queries.map((vector) => store.search({ category: "articles", mode: "dense", vector, limit: 1 })),
    );
    await store.optimize();
    const connection = await lancedb.connect(directory);
    const indices = await (await connection.openTable("embedded_articles")).listIndices();
    expect(indices.map((index) => index.columns[0])).toContain("vector");
    connection.close();
    for (const [position, vector] of queries.entries()) {
      let best = { id: "", similarity: -2 };
      for (const chunk of chunks) {
        const similarity = chunk.vector.reduce((sum, value, axis) => sum + value * (vector[axis] ?? 0), 0);
        if (similarity > best.similarity) best = { id: chunk.id, similarity };
      }
      const [indexed] = await store.search({ category: "articles", mode: "dense", vector, limit: 1 });
      expect(indexed?.chunk.id).toBe(best.id);
      expect(bruteForce[position]?.[0]?.chunk.id).toBe(best.id);
      expect(indexed?.score).toBeCloseTo(best.similarity, 4);
    }
    await store[Symbol.asyncDispose]();
  });

  it("keeps every search below the threshold exact, without a vector index", async () => {
    const directory = await temporaryDirectory();
    const store = await openVectorStore(directory, { lancedb: { ann: { threshold: 1000 } } });
    await store.upsert([0, 1, 2].map((position) => contractChunk({ name: `small-${position}` })));
    await store.optimize();
    const connection = await lancedb.connect(directory);
    const indices = await (await connection.openTable("embedded_articles")).listIndices();
    expect(indices.map((index) => index.columns[0]).sort()).toEqual(["author_id", "document_id", "id", "text"]);
    connection.close();
    await store[Symbol.asyncDispose]();
  });

  it("finds rows of a later upsert with lexical search, before and after optimize", async () => {
    const store = await openVectorStore(await temporaryDirectory());
    await store.upsert([contractChunk({ name: "first", text: "The first batch talks about pipelines." })]);
    await store.optimize();
    expect(await store.search({ category: "articles", mode: "lexical", text: "pipelines", limit: 5 })).toHaveLength(1);
    await store.upsert([
      contractChunk({ name: "second", text: "The second batch mentions a narwhal.", vector: axisVector(1) }),
    ]);
    const before = await store.search({ category: "articles", mode: "lexical", text: "narwhal", limit: 5 });
    expect(before.map((hit) => hit.chunk.id)).toEqual([contractId("second")]);
    await store.optimize();
    const after = await store.search({
      category: "articles",
      mode: "hybrid",
      vector: axisVector(1),
      text: "narwhal",
      limit: 5,
    });
    expect(after[0]?.chunk.id).toBe(contractId("second"));
    await store[Symbol.asyncDispose]();
  });

  it("creates the full-text index on first lexical search when optimize never ran", async () => {
    const store = await openVectorStore(await temporaryDirectory());
    await store.upsert([contractChunk({ name: "lonely", text: "An aardvark appears." })]);
    const hits = await store.search({ category: "articles", mode: "lexical", text: "aardvark", limit: 5 });
    expect(hits.map((hit) => hit.chunk.id)).toEqual([contractId("lonely")]);
    await store[Symbol.asyncDispose]();
  });
});

describe("LanceDB lexical queries", () => {
  it("treats query text literally: operators, quotes, stop words and non-ASCII never fail", async () => {
    const store = await openVectorStore(await temporaryDirectory());
    await store.upsert([
      contractChunk({ name: "rag", text: "RAG systems: vector databases and the café of retrieval (2024)." }),
      contractChunk({ name: "other", text: "Fine-tuning with LoRA adapters.", vector: axisVector(2) }),
    ]);
    await store.optimize();
    const texts = [
      '"RAG" AND (vector:db) -foo* ~ ? \\ OR NOT',
      "the of and a",
      "café 2024",
      "x".repeat(5_000),
      "O'Reilly's \"quoted\" [brackets] {braces}",
    ];
    for (const text of texts) {
      const hits = await store.search({ category: "articles", mode: "lexical", text, limit: 5 });
      expect(Array.isArray(hits)).toBe(true);
      const hybrid = await store.search({
        category: "articles",
        mode: "hybrid",
        vector: axisVector(0),
        text,
        limit: 5,
      });
      expect(hybrid.length).toBeGreaterThan(0);
    }
    const cafe = await store.search({ category: "articles", mode: "lexical", text: "café 2024", limit: 5 });
    expect(cafe.map((hit) => hit.chunk.id)).toEqual([contractId("rag")]);
    const quoted = await store.search({ category: "articles", mode: "lexical", text: "O'Reilly RAG", limit: 5 });
    expect(quoted.map((hit) => hit.chunk.id)).toEqual([contractId("rag")]);
    await store[Symbol.asyncDispose]();
  });

  it("filters on author ids containing quotes", async () => {
    const store = await openVectorStore(await temporaryDirectory());
    const author = { id: "o'brien", fullName: "Pat O'Brien" };
    await store.upsert([contractChunk({ name: "quoted-author", author })]);
    const hits = await store.search({
      category: "articles",
      mode: "dense",
      vector: axisVector(0),
      filter: { authorId: author.id },
      limit: 5,
    });
    expect(hits.map((hit) => hit.chunk.author)).toEqual([author]);
    expect(await store.listAuthors()).toEqual([author]);
    await store[Symbol.asyncDispose]();
  });
});

describe("LanceDB knownNew upserts", () => {
  it("appends new chunks, which later merge-inserts replace by id", async () => {
    const store = await openVectorStore(await temporaryDirectory());
    const chunks = [0, 1, 2].map((position) => contractChunk({ name: `new-${position}`, index: position }));
    await store.upsert(chunks, { knownNew: true });
    expect(await store.count("articles")).toBe(3);
    await store.upsert(chunks);
    expect(await store.count("articles")).toBe(3);
    await store[Symbol.asyncDispose]();
  });
});

describe("LanceDB full-text settings", () => {
  it("stems by default, and optimize() rebuilds the index when the settings change", async () => {
    const directory = await temporaryDirectory();
    const search = (store: Awaited<ReturnType<typeof openVectorStore>>, text: string) =>
      store
        .search({ category: "articles", mode: "lexical", text, limit: 5 })
        .then((hits) => hits.map((hit) => hit.chunk.id));
    const stemming = await openVectorStore(directory);
    await stemming.upsert([contractChunk({ name: "plural", text: "Feature pipelines everywhere." })]);
    await stemming.optimize();
    expect(await search(stemming, "pipeline")).toEqual([contractId("plural")]);
    await stemming[Symbol.asyncDispose]();
    const exact = await openVectorStore(directory, { lancedb: { fullText: { stem: false } } });
    await exact.optimize();
    expect(await search(exact, "pipeline")).toEqual([]);
    expect(await search(exact, "pipelines")).toEqual([contractId("plural")]);
    await exact[Symbol.asyncDispose]();
  });
});

describe("LanceDB handles", () => {
  it("sees rows written through another handle at once", async () => {
    const directory = await temporaryDirectory();
    const reader = await openVectorStore(directory);
    const writer = await openVectorStore(directory);
    await writer.upsert([contractChunk({ name: "first-write" })]);
    expect(await reader.count()).toBe(1);
    await writer.upsert([contractChunk({ name: "second-write", vector: axisVector(3) })]);
    const hits = await reader.search({ category: "articles", mode: "dense", vector: axisVector(3), limit: 1 });
    expect(hits[0]?.chunk.id).toBe(contractId("second-write"));
    expect(await reader.count()).toBe(2);
    await writer[Symbol.asyncDispose]();
    await reader[Symbol.asyncDispose]();
  });
});

describe("LanceDB failures", () => {
  it("reports storage failures as AppError dependency_unavailable", async () => {
    const directory = await temporaryDirectory();
    const notADirectory = join(directory, "a-file");
    // The folder turns into a file after the store was opened.
    const store = await openVectorStore(notADirectory);
    await rm(notADirectory, { recursive: true, force: true });
    await writeFile(notADirectory, "not a store");
    const error = await store.upsert([contractChunk({ name: "x" })]).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    await store[Symbol.asyncDispose]();
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).code).toBe("dependency_unavailable");
  });

  it("refuses a store path that is a file before LanceDB sees it", async () => {
    const directory = await temporaryDirectory();
    const file = join(directory, "a-file");
    await writeFile(file, "not a store");
    const error = await openVectorStore(`lancedb:${file}`).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).code).toBe("configuration_error");
    expect((error as AppError).message).toContain("is a file, expected a folder");
  });
});
