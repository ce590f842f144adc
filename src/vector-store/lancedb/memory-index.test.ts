import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as lancedb from "@lancedb/lancedb";
import { afterAll, describe, expect, it } from "vitest";
import type { EmbeddedChunk } from "../../domain/index.js";
import { contractChunk, contractId } from "../contract-fixtures.js";
import { openVectorStore } from "../open.js";
import type { VectorStore } from "../port.js";
import { createDotScanner } from "./dot-kernel.js";
import { buildMemoryIndex, MemoryVectorIndex, TableMemoryIndex } from "./memory-index.js";
import { resolveLanceDbOptions } from "./options.js";
import { memoryDenseRows } from "./queries.js";

const directories: string[] = [];
afterAll(async () => {
  await Promise.all(directories.map((directory) => rm(directory, { recursive: true, force: true })));
});

async function temporaryDirectory(): Promise<string> {
  const directory = await mkdtemp(join(tmpdir(), "llm-twin-memory-index-"));
  directories.push(directory);
  return directory;
}

function seededRandom(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let mixed = Math.imul(state ^ (state >>> 15), 1 | state);
    mixed = (mixed + Math.imul(mixed ^ (mixed >>> 7), 61 | mixed)) ^ mixed;
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 4294967296;
  };
}

const DIMENSIONS = 8;

function randomVector(random: () => number, dimensions = DIMENSIONS): Float32Array {
  return Float32Array.from({ length: dimensions }, () => random() * 2 - 1);
}

const cosine = (left: Float32Array, right: Float32Array) => {
  let dot = 0;
  let leftNorm = 0;
  let rightNorm = 0;
  left.forEach((value, axis) => {
    dot += value * (right[axis] ?? 0);
    leftNorm += value * value;
    rightNorm += (right[axis] ?? 0) ** 2;
  });
  return dot / Math.sqrt(leftNorm * rightNorm);
};

describe.each(["wasm-simd", "javascript"] as const)("MemoryVectorIndex (%s scan)", (scanner) => {
  const random = seededRandom(5);
  const vectors = Array.from({ length: 300 }, () => randomVector(random));
  const authors = vectors.map((_, row) => `author-${row % 3}`);
  const unit = (vector: Float32Array) => {
    const norm = Math.hypot(...vector);
    return vector.map((value) => value / norm);
  };
  const flat = new Float32Array(vectors.length * DIMENSIONS);
  vectors.forEach((vector, row) => {
    flat.set(unit(vector), row * DIMENSIONS);
  });
  const index = new MemoryVectorIndex({
    version: 1,
    dimensions: DIMENSIONS,
    vectors: flat,
    ids: vectors.map((_, row) => `row-${row}`),
    rowIds: BigUint64Array.from(vectors, (_, row) => BigInt(row)),
    authors,
    scanner,
  });

  function bruteForce(query: Float32Array, limit: number, author?: string) {
    return vectors
      .map((vector, row) => ({ id: `row-${row}`, score: cosine(query, vector), author: authors[row] }))
      .filter((entry) => author === undefined || entry.author === author)
      .sort((left, right) => right.score - left.score)
      .slice(0, limit);
  }

  it("returns the exact cosine top k, best first, with the similarities as scores", () => {
    for (let query = 0; query < 20; query++) {
      const vector = randomVector(random).map((value) => value * 3); // not unit length
      const expected = bruteForce(vector, 10);
      const hits = index.search(vector, 10, undefined);
      expect(hits.map((hit) => hit.id)).toEqual(expected.map((entry) => entry.id));
      hits.forEach((hit, position) => {
        expect(hit.score).toBeCloseTo(expected[position]?.score ?? Number.NaN, 5);
        expect(hit.rowId).toBe(BigInt(hit.id.slice(4)));
      });
    }
  });

  it("searches only the author's rows when filtered, and counts them as candidates", () => {
    const vector = randomVector(random);
    const hits = index.search(vector, 7, "author-1");
    expect(hits.map((hit) => hit.id)).toEqual(bruteForce(vector, 7, "author-1").map((entry) => entry.id));
    expect(index.candidates("author-1")).toBe(100);
    expect(index.candidates(undefined)).toBe(300);
    expect(index.candidates("nobody")).toBe(0);
    expect(index.search(vector, 5, "nobody")).toEqual([]);
  });

  it("returns every candidate when the limit is larger", () => {
    expect(index.search(randomVector(random), 1000, "author-2")).toHaveLength(100);
  });

  it("scans with the kernel asked for (WebAssembly SIMD exists on Node 20)", () => {
    expect(index.scanner).toBe(scanner);
  });
});

describe("dot scanner", () => {
  it("falls back to JavaScript when the dimensions are not a multiple of 4, with the same scores", () => {
    const random = seededRandom(17);
    const odd = 6;
    const vectors = Float32Array.from({ length: 50 * odd }, () => random() - 0.5);
    const order = Int32Array.from({ length: 50 }, (_, row) => 49 - row);
    const query = Float32Array.from({ length: odd }, () => random() - 0.5);
    const fallback = createDotScanner(vectors, odd, order);
    expect(fallback.kind).toBe("javascript");
    const scores = fallback.scores(query, 10, 5);
    for (let position = 0; position < 5; position++) {
      const row = order[10 + position] as number;
      const expected = query.reduce((sum, value, axis) => sum + value * (vectors[row * odd + axis] ?? 0), 0);
      expect(scores[position]).toBeCloseTo(expected, 5);
    }
    const padded = 40; // two 16-float steps and two 4-float steps
    const wide = Float32Array.from({ length: 50 * padded }, () => random() - 0.5);
    const wideQuery = Float32Array.from({ length: padded }, () => random() - 0.5);
    const simd = createDotScanner(wide, padded, order);
    const plain = createDotScanner(wide, padded, order, "javascript");
    expect(simd.kind).toBe("wasm-simd");
    const fromSimd = [...simd.scores(wideQuery, 0, 50)];
    const fromPlain = [...plain.scores(wideQuery, 0, 50)];
    fromSimd.forEach((score, position) => {
      expect(score).toBeCloseTo(fromPlain[position] ?? Number.NaN, 5);
    });
  });
});

function chunks(count: number, random: () => number, prefix: string): EmbeddedChunk[] {
  return Array.from({ length: count }, (_, position) => ({
    ...contractChunk({
      name: `${prefix}-${position}`,
      index: position,
      author: position % 2 === 0 ? { id: "even", fullName: "Even" } : { id: "odd", fullName: "Odd" },
    }),
    vector: randomVector(random, 16),
  }));
}

async function dense(store: VectorStore, vector: Float32Array, authorId?: string) {
  const hits = await store.search({
    category: "articles",
    mode: "dense",
    vector,
    limit: 5,
    ...(authorId === undefined ? {} : { filter: { authorId } }),
  });
  return hits.map((hit) => ({ id: hit.chunk.id, score: hit.score, text: hit.chunk.text, author: hit.chunk.author.id }));
}

describe("LanceDB store with the memory index", () => {
  it("answers dense and hybrid searches like LanceDB alone, filtered or not", async () => {
    const directory = await temporaryDirectory();
    const random = seededRandom(9);
    const withMemory = await openVectorStore(directory);
    await withMemory.upsert(chunks(120, random, "row"));
    const lanceOnly = await openVectorStore(directory, { lancedb: { memoryIndex: { maxMegabytes: 0 } } });
    for (let query = 0; query < 10; query++) {
      const vector = randomVector(random, 16);
      const author = query % 2 === 0 ? undefined : "odd";
      const mine = await dense(withMemory, vector, author);
      const theirs = await dense(lanceOnly, vector, author);
      expect(mine.map((hit) => hit.id)).toEqual(theirs.map((hit) => hit.id));
      mine.forEach((hit, position) => {
        expect(hit.score).toBeCloseTo(theirs[position]?.score ?? Number.NaN, 5);
        expect(hit.text).toBe(theirs[position]?.text);
        if (author !== undefined) expect(hit.author).toBe(author);
      });
      const hybrid = {
        category: "articles" as const,
        mode: "hybrid" as const,
        vector,
        text: "machine learning",
        limit: 5,
      };
      const fused = await withMemory.search(hybrid);
      expect(fused.map((hit) => hit.chunk.id)).toEqual((await lanceOnly.search(hybrid)).map((hit) => hit.chunk.id));
    }
    await withMemory[Symbol.asyncDispose]();
    await lanceOnly[Symbol.asyncDispose]();
  });

  it("sees writes through the same handle and through another one at once", async () => {
    const directory = await temporaryDirectory();
    const random = seededRandom(13);
    const reader = await openVectorStore(directory);
    await reader.upsert(chunks(20, random, "first"));
    const probe = randomVector(random, 16);
    await dense(reader, probe); // builds the memory index
    await reader.upsert([{ ...contractChunk({ name: "same-handle" }), vector: probe }]);
    expect((await dense(reader, probe))[0]?.id).toBe(contractId("same-handle"));

    const writer = await openVectorStore(directory);
    const other = probe.map((value) => -value);
    await writer.upsert([{ ...contractChunk({ name: "other-handle" }), vector: other }]);
    expect((await dense(reader, other))[0]?.id).toBe(contractId("other-handle"));
    await writer.deleteChunks("articles", [contractId("other-handle")]);
    expect((await dense(reader, other)).map((hit) => hit.id)).not.toContain(contractId("other-handle"));
    await writer[Symbol.asyncDispose]();
    await reader[Symbol.asyncDispose]();
  });

  it("answers searches of empty and missing categories with no hits", async () => {
    const store = await openVectorStore(await temporaryDirectory());
    const vector = randomVector(seededRandom(1), 16);
    expect(await store.search({ category: "posts", mode: "dense", vector, limit: 3 })).toEqual([]);
    await store.ensureCollections(16);
    for (const mode of ["dense", "hybrid", "lexical"] as const) {
      expect(await store.search({ category: "posts", mode, vector, text: "anything", limit: 3 })).toEqual([]);
    }
    await store[Symbol.asyncDispose]();
  });
});

describe("TableMemoryIndex", () => {
  it("builds from the table on first use, serves nothing while stale and rebuilds in the background", async () => {
    const directory = await temporaryDirectory();
    const random = seededRandom(21);
    const store = await openVectorStore(directory);
    await store.upsert(chunks(30, random, "row"));
    const connection = await lancedb.connect(directory, { readConsistencyInterval: 0 });
    const table = await connection.openTable("embedded_articles");
    const holder = new TableMemoryIndex(table, 16, { maxMegabytes: 1, maxScanRows: 1000, firstBuildWaitMs: 60_000 });
    const first = await holder.current();
    expect(first?.size).toBe(30);
    expect(first?.candidates("odd")).toBe(15);
    expect(await holder.current()).toBe(first);

    await store.upsert(chunks(5, random, "more"));
    expect(await holder.current({ build: false })).toBeUndefined();
    expect(await holder.current()).toBeUndefined();
    await holder.settled();
    const rebuilt = await holder.current();
    expect(rebuilt?.size).toBe(35);
    expect(rebuilt?.version).toBe(await table.version());

    const tooSmall = new TableMemoryIndex(table, 16, { maxMegabytes: 0, maxScanRows: 1000, firstBuildWaitMs: 60_000 });
    expect(await tooSmall.current()).toBeUndefined();
    connection.close();
    await store[Symbol.asyncDispose]();
  });

  it("answers without the copy when its first build outlasts the wait, and uses it once built", async () => {
    const directory = await temporaryDirectory();
    const random = seededRandom(22);
    const store = await openVectorStore(directory);
    await store.upsert(chunks(30, random, "row"));
    const connection = await lancedb.connect(directory, { readConsistencyInterval: 0 });
    const table = await connection.openTable("embedded_articles");
    // A wait of 0 ms: the first search never waits for the scan of the table.
    const holder = new TableMemoryIndex(table, 16, { maxMegabytes: 1, maxScanRows: 1000, firstBuildWaitMs: 0 });
    expect(await holder.current()).toBeUndefined();
    await holder.settled();
    expect((await holder.current())?.size).toBe(30);
    connection.close();
    await store[Symbol.asyncDispose]();
  });
});

describe("buildMemoryIndex", () => {
  it("keeps the rows within the byte budget, else only the vectors (rows then read by row id)", async () => {
    const directory = await temporaryDirectory();
    const random = seededRandom(31);
    const store = await openVectorStore(directory);
    await store.upsert(chunks(40, random, "row"));
    const connection = await lancedb.connect(directory);
    const table = await connection.openTable("embedded_articles");
    const vectorBytes = 40 * 16 * 4;
    const full = await buildMemoryIndex(table, 16);
    const vectorsOnly = await buildMemoryIndex(table, 16, vectorBytes + 10);
    expect(full?.holdsRows).toBe(true);
    expect(vectorsOnly?.holdsRows).toBe(false);
    expect(await buildMemoryIndex(table, 16, vectorBytes - 1)).toBeUndefined();
    const query = randomVector(random, 16);
    const fromRows = await memoryDenseRows(table, full as MemoryVectorIndex, query, 5, "odd");
    const fromTable = await memoryDenseRows(table, vectorsOnly as MemoryVectorIndex, query, 5, "odd");
    const fromLance = await store.search({
      category: "articles",
      mode: "dense",
      vector: query,
      limit: 5,
      filter: { authorId: "odd" },
    });
    const view = (hits: { row: { id: string; text: string; author_id: string } }[] | undefined) =>
      hits?.map(({ row }) => [row.id, row.text, row.author_id]);
    expect(view(fromRows)).toEqual(fromLance.map((hit) => [hit.chunk.id, hit.chunk.text, "odd"]));
    expect(view(fromTable)).toEqual(view(fromRows));
    const ids = fromLance.map((hit) => hit.chunk.id);
    expect([...(full?.rowsOf(ids)?.values() ?? [])].map((row) => row.text)).toEqual(
      fromLance.map((hit) => hit.chunk.text),
    );
    expect(full?.rowsOf([...ids, "missing"])).toBeUndefined();
    expect(vectorsOnly?.rowsOf(ids)).toBeUndefined();
    connection.close();
    await store[Symbol.asyncDispose]();
  });
});

describe("memory index settings", () => {
  it("reads the LLM_TWIN_LANCEDB_* memory index variables, options first", () => {
    const env = {
      LLM_TWIN_LANCEDB_MEMORY_INDEX_MB: "64",
      LLM_TWIN_LANCEDB_EXACT_SCAN_ROWS: "1000",
      LLM_TWIN_LANCEDB_FIRST_BUILD_WAIT_MS: "500",
    };
    expect(resolveLanceDbOptions({ directory: "x", env }).memoryIndex).toEqual({
      maxMegabytes: 64,
      maxScanRows: 1000,
      firstBuildWaitMs: 500,
    });
    expect(
      resolveLanceDbOptions({ directory: "x", env, memoryIndex: { maxMegabytes: 0 } }).memoryIndex.maxMegabytes,
    ).toBe(0);
    expect(resolveLanceDbOptions({ directory: "x", env: {} }).memoryIndex).toEqual({
      maxMegabytes: 256,
      maxScanRows: 50_000,
      firstBuildWaitMs: 2_000,
    });
  });

  it("refuses a malformed variable with a configuration_error naming it", () => {
    expect(() =>
      resolveLanceDbOptions({ directory: "x", env: { LLM_TWIN_LANCEDB_MEMORY_INDEX_MB: "lots" } }),
    ).toThrowError(/LLM_TWIN_LANCEDB_MEMORY_INDEX_MB must be an integer >= 0, got 'lots'/);
  });
});
