/**
 * The VectorStore contract: one suite every adapter must pass (LanceDB always; Qdrant when a
 * server is reachable). Each test gets a fresh, empty store from `createStore` and drops it after.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  axisVector,
  CONTRACT_DIMENSIONS,
  contractChunk,
  contractId,
  expectAppError,
  expectDescending,
  ids,
  MAXIME,
  metadataSample,
  PAUL,
} from "./contract-fixtures.js";
import { runSearchRankingContract } from "./contract-search.js";
import type { VectorStore } from "./port.js";

export { axisVector, CONTRACT_DIMENSIONS, contractChunk, contractId } from "./contract-fixtures.js";

export type ContractOptions = {
  /** A second handle on the same store (another process's reader); default: the store itself. */
  reopen?: (store: VectorStore) => Promise<VectorStore>;
};

export function runVectorStoreContract(
  name: string,
  createStore: () => Promise<VectorStore>,
  options: ContractOptions = {},
): void {
  describe(`VectorStore contract: ${name}`, () => {
    let store: VectorStore;

    beforeEach(async () => {
      store = await createStore();
    });

    afterEach(async () => {
      await store.drop();
      await store[Symbol.asyncDispose]();
    });

    it("round-trips the metadata", async () => {
      expect(await store.readMetadata()).toBeUndefined();
      const metadata = metadataSample();
      await store.writeMetadata(metadata);
      expect(await store.readMetadata()).toEqual(metadata);
      const updated = { ...metadata, updatedAt: "2026-02-01T00:00:00.000Z" };
      await store.writeMetadata(updated);
      expect(await store.readMetadata()).toEqual(updated);
    });

    it("ensureCollections is idempotent and leaves the store empty", async () => {
      await store.ensureCollections(CONTRACT_DIMENSIONS);
      await store.ensureCollections(CONTRACT_DIMENSIONS);
      expect(await store.count()).toBe(0);
      const hits = await store.search({ category: "posts", mode: "dense", vector: axisVector(0), limit: 5 });
      expect(hits).toEqual([]);
    });

    it("searches a missing or empty collection as empty, in every mode", async () => {
      for (const mode of ["dense", "lexical", "hybrid"] as const) {
        const request = { category: "posts" as const, mode, vector: axisVector(0), text: "pipelines", limit: 5 };
        expect(await store.search(request)).toEqual([]);
      }
      await store.upsert([contractChunk({ name: "a1", category: "articles" })]);
      for (const mode of ["dense", "lexical", "hybrid"] as const) {
        const request = { category: "repositories" as const, mode, vector: axisVector(0), text: "pipelines", limit: 5 };
        expect(await store.search(request)).toEqual([]);
      }
    });

    it("upsert is idempotent: the same chunks twice leave one row each", async () => {
      const chunks = [0, 1, 2, 3].map((position) =>
        contractChunk({ name: `chunk-${position}`, index: position, vector: axisVector(position) }),
      );
      await store.upsert(chunks);
      await store.upsert(chunks);
      expect(await store.count("articles")).toBe(4);
      expect(await store.count()).toBe(4);
    });

    it("replaces a chunk stored under the same id", async () => {
      await store.upsert([
        contractChunk({ name: "replaced", text: "The original quixotic sentence.", vector: axisVector(1) }),
      ]);
      await store.upsert([
        contractChunk({ name: "replaced", text: "The rewritten zeppelin sentence.", vector: axisVector(2) }),
      ]);
      expect(await store.count("articles")).toBe(1);
      const dense = await store.search({ category: "articles", mode: "dense", vector: axisVector(2), limit: 5 });
      expect(dense).toHaveLength(1);
      expect(dense[0]?.chunk.text).toBe("The rewritten zeppelin sentence.");
      expect(dense[0]?.score).toBeCloseTo(1, 3);
      await store.optimize();
      const lexicalNew = await store.search({ category: "articles", mode: "lexical", text: "zeppelin", limit: 5 });
      expect(ids(lexicalNew)).toEqual([contractId("replaced")]);
      const lexicalOld = await store.search({ category: "articles", mode: "lexical", text: "quixotic", limit: 5 });
      expect(lexicalOld).toEqual([]);
    });

    it("returns every stored field of a chunk", async () => {
      const chunk = contractChunk({ name: "fields", document: "doc-fields", index: 7, author: MAXIME });
      await store.upsert([chunk]);
      const [hit] = await store.search({ category: "articles", mode: "dense", vector: chunk.vector, limit: 1 });
      const { vector: _vector, ...expected } = chunk;
      expect(hit?.chunk).toEqual(expected);
    });

    it("lists chunk ids by document", async () => {
      await store.upsert([
        contractChunk({ name: "d1-c0", document: "d1", index: 0 }),
        contractChunk({ name: "d1-c1", document: "d1", index: 1 }),
        contractChunk({ name: "d2-c0", document: "d2", index: 0 }),
        contractChunk({ name: "d3-post", document: "d3", category: "posts" }),
      ]);
      const found = await store.chunkIdsByDocument("articles", [
        contractId("d1"),
        contractId("d2"),
        contractId("d3"),
        "unknown",
      ]);
      expect(found).toEqual(
        new Map([
          [contractId("d1"), new Set([contractId("d1-c0"), contractId("d1-c1")])],
          [contractId("d2"), new Set([contractId("d2-c0")])],
        ]),
      );
      expect(await store.chunkIdsByDocument("repositories", [contractId("d1")])).toEqual(new Map());
      expect(await store.chunkIdsByDocument("articles", [])).toEqual(new Map());
    });

    it("deletes chunks and whole documents", async () => {
      await store.upsert([
        contractChunk({ name: "d1-c0", document: "d1", index: 0 }),
        contractChunk({ name: "d1-c1", document: "d1", index: 1 }),
        contractChunk({ name: "d2-c0", document: "d2", index: 0 }),
        contractChunk({ name: "d2-c1", document: "d2", index: 1 }),
      ]);
      await store.deleteChunks("articles", [contractId("d1-c1"), contractId("never-stored")]);
      expect(await store.count("articles")).toBe(3);
      await store.deleteDocument("articles", contractId("d2"));
      expect(await store.count("articles")).toBe(1);
      const remaining = await store.chunkIdsByDocument("articles", [contractId("d1"), contractId("d2")]);
      expect(remaining).toEqual(new Map([[contractId("d1"), new Set([contractId("d1-c0")])]]));
      await store.deleteChunks("posts", [contractId("d1-c0")]);
      await store.deleteDocument("repositories", contractId("d1"));
      expect(await store.count()).toBe(1);
    });

    it("ranks dense results nearest first with cosine scores", async () => {
      await store.upsert([
        contractChunk({ name: "exact", vector: axisVector(0) }),
        contractChunk({ name: "close", vector: axisVector(0, 0.3) }),
        contractChunk({ name: "far", vector: axisVector(0, 2) }),
        contractChunk({ name: "orthogonal", vector: axisVector(3) }),
      ]);
      const hits = await store.search({ category: "articles", mode: "dense", vector: axisVector(0), limit: 4 });
      expect(ids(hits)).toEqual(["exact", "close", "far", "orthogonal"].map(contractId));
      expectDescending(hits);
      expect(hits[0]?.score).toBeCloseTo(1, 3);
      expect(hits[1]?.score).toBeCloseTo(1 / Math.hypot(1, 0.3), 3);
      expect(hits[3]?.score).toBeCloseTo(0, 3);
    });

    it("honours the author filter in every mode", async () => {
      await store.upsert([
        contractChunk({
          name: "paul-1",
          author: PAUL,
          text: "Paul writes about feature stores.",
          vector: axisVector(0),
        }),
        contractChunk({ name: "paul-2", author: PAUL, text: "Paul on feature pipelines.", vector: axisVector(0, 0.5) }),
        contractChunk({
          name: "maxime-1",
          author: MAXIME,
          text: "Maxime on feature merging.",
          vector: axisVector(0, 0.1),
        }),
      ]);
      await store.optimize();
      for (const mode of ["dense", "lexical", "hybrid"] as const) {
        const hits = await store.search({
          category: "articles",
          mode,
          vector: axisVector(0),
          text: "feature",
          filter: { authorId: MAXIME.id },
          limit: 10,
        });
        expect(ids(hits)).toEqual([contractId("maxime-1")]);
        const paul = await store.search({
          category: "articles",
          mode,
          vector: axisVector(0),
          text: "feature",
          filter: { authorId: PAUL.id },
          limit: 10,
        });
        expect(new Set(ids(paul))).toEqual(new Set([contractId("paul-1"), contractId("paul-2")]));
      }
      const nobody = await store.search({
        category: "articles",
        mode: "dense",
        vector: axisVector(0),
        filter: { authorId: "nobody's id" },
        limit: 10,
      });
      expect(nobody).toEqual([]);
    });

    it("keeps categories isolated", async () => {
      await store.upsert([
        contractChunk({ name: "article", category: "articles", vector: axisVector(0) }),
        contractChunk({ name: "post", category: "posts", vector: axisVector(0) }),
        contractChunk({ name: "repository", category: "repositories", vector: axisVector(0) }),
      ]);
      for (const category of ["articles", "posts", "repositories"] as const) {
        const hits = await store.search({ category, mode: "dense", vector: axisVector(0), limit: 10 });
        expect(hits).toHaveLength(1);
        expect(hits[0]?.chunk.category).toBe(category);
        expect(await store.count(category)).toBe(1);
      }
      expect(await store.count()).toBe(3);
    });

    runSearchRankingContract(() => store);

    it("lists the distinct authors", async () => {
      expect(await store.listAuthors()).toEqual([]);
      await store.upsert([
        contractChunk({ name: "a", author: PAUL }),
        contractChunk({ name: "b", author: PAUL, category: "posts" }),
        contractChunk({ name: "c", author: MAXIME, category: "repositories" }),
      ]);
      const authors = await store.listAuthors();
      expect(authors).toHaveLength(2);
      expect(new Set(authors.map((author) => JSON.stringify(author)))).toEqual(
        new Set([JSON.stringify(PAUL), JSON.stringify(MAXIME)]),
      );
    });

    it("drops every collection and the metadata, and works again afterwards", async () => {
      await store.writeMetadata(metadataSample());
      await store.upsert([contractChunk({ name: "x" }), contractChunk({ name: "y", category: "posts" })]);
      await store.drop();
      expect(await store.count()).toBe(0);
      expect(await store.readMetadata()).toBeUndefined();
      expect(await store.search({ category: "articles", mode: "dense", vector: axisVector(0), limit: 3 })).toEqual([]);
      await store.upsert([contractChunk({ name: "z" })]);
      expect(await store.count()).toBe(1);
    });

    it("rejects vectors of the wrong dimension with dimension_mismatch", async () => {
      await store.ensureCollections(CONTRACT_DIMENSIONS);
      await store.upsert([contractChunk({ name: "right" })]);
      const wrong = {
        ...contractChunk({ name: "wrong" }),
        vector: new Float32Array(CONTRACT_DIMENSIONS + 2).fill(0.3),
      };
      await expectAppError(store.upsert([wrong]), "dimension_mismatch");
      await expectAppError(
        store.search({ category: "articles", mode: "dense", vector: new Float32Array(3).fill(0.5), limit: 3 }),
        "dimension_mismatch",
      );
      await expectAppError(store.ensureCollections(CONTRACT_DIMENSIONS * 2), "dimension_mismatch");
      expect(await store.count()).toBe(1);
    });

    it("rejects malformed search requests", async () => {
      await expectAppError(store.search({ category: "articles", mode: "dense", limit: 3 }), "validation_error");
      await expectAppError(
        store.search({ category: "articles", mode: "lexical", text: " ", limit: 3 }),
        "validation_error",
      );
      await expectAppError(
        store.search({ category: "articles", mode: "dense", vector: axisVector(0), limit: 0 }),
        "validation_error",
      );
    });

    it("rebuilds beside the live collections: readers keep the old ones until publish, then follow", async () => {
      const before = metadataSample();
      await store.writeMetadata(before);
      await store.upsert([contractChunk({ name: "old", text: "The old zebra text.", vector: axisVector(0) })]);
      const reader = options.reopen === undefined ? store : await options.reopen(store);
      try {
        const query = { category: "articles" as const, mode: "dense" as const, vector: axisVector(0), limit: 5 };
        expect(ids(await reader.search(query))).toEqual([contractId("old")]);
        const rebuild = await store.startRebuild();
        const after = { ...before, createdAt: "2026-03-01T00:00:00.000Z", updatedAt: "2026-03-01T00:00:00.000Z" };
        await rebuild.store.ensureCollections(CONTRACT_DIMENSIONS);
        await rebuild.store.writeMetadata(after);
        await rebuild.store.upsert([
          contractChunk({ name: "new-1", text: "The new okapi text.", vector: axisVector(0) }),
          contractChunk({ name: "new-2", category: "posts" }),
        ]);
        await rebuild.store.optimize();
        expect(await rebuild.store.count()).toBe(2);
        expect(ids(await reader.search(query))).toEqual([contractId("old")]);
        expect(await reader.readMetadata()).toEqual(before);
        await rebuild.publish();
        expect(ids(await reader.search(query))).toEqual([contractId("new-1")]);
        const lexical = await reader.search({ category: "articles", mode: "lexical", text: "okapi", limit: 5 });
        expect(ids(lexical)).toEqual([contractId("new-1")]);
        expect(await reader.readMetadata()).toEqual(after);
        expect(await reader.count()).toBe(2);
        expect(await store.count()).toBe(2);
        await reader.check();
        const discarded = await store.startRebuild();
        await discarded.store.upsert([contractChunk({ name: "discarded" })]);
        await discarded.discard();
        expect(await reader.count()).toBe(2);
        expect(await store.count()).toBe(2);
      } finally {
        if (reader !== store) await reader[Symbol.asyncDispose]();
      }
    });

    it("check() opens and reads every collection", async () => {
      await store.check();
      await store.upsert([contractChunk({ name: "checked" }), contractChunk({ name: "post", category: "posts" })]);
      await store.check();
    });

    it("answers concurrent searches consistently", async () => {
      await store.upsert(
        Array.from({ length: 20 }, (_, position) =>
          contractChunk({
            name: `c-${position}`,
            text: `concurrent text ${position}`,
            vector: axisVector(position % 8, 0.1),
          }),
        ),
      );
      await store.optimize();
      const request = {
        category: "articles" as const,
        mode: "hybrid" as const,
        vector: axisVector(2),
        text: "concurrent",
        limit: 5,
      };
      const first = ids(await store.search(request));
      const all = await Promise.all(Array.from({ length: 8 }, () => store.search(request)));
      for (const hits of all) expect(ids(hits)).toEqual(first);
    });
  });
}
