/**
 * #19 item 1: one fusion meaning everywhere. The same chunks and the same weighted hybrid query
 * (the RAG defaults: dense weight 0.2, k 3) give the same order and scores on LanceDB and on
 * Qdrant (the schema-checked fake), because both fuse their dense and lexical lists with the
 * project's fusion (`fuseHybrid`, here with `fusion: "rrf"`). Qdrant's own weighted RRF (server-side,
 * >= 1.17) would not. Agreement fusion (the service default) also reads each store's lexical
 * scores, which differ by engine (LanceDB's BM25, Qdrant's IDF-weighted sparse dot product), so its
 * order is the same only where those scores agree (docs/vector-stores.md).
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { axisVector, contractChunk } from "./contract.js";
import { ids } from "./contract-fixtures.js";
import { openVectorStore } from "./open.js";
import type { VectorStore } from "./port.js";
import { openQdrantStore } from "./qdrant/store.js";
import { checkedFakeQdrant } from "./qdrant/testing.js";

const directories: string[] = [];
afterAll(async () => {
  await Promise.all(directories.map((directory) => rm(directory, { recursive: true, force: true })));
});

/** Equal-length texts whose count of "heron" sets the lexical order in any BM25. */
const chunks = Array.from({ length: 10 }, (_, position) => {
  const herons = [5, 0, 3, 1, 4, 0, 2, 0, 6, 7][position] ?? 0;
  return contractChunk({
    name: `parity-${position}`,
    text: `${"heron ".repeat(herons)}${"marsh ".repeat(8 - herons)}`.trim(),
    // Distinct cosines to the query axis (no ties, whose order no store defines).
    vector: axisVector(2, [0.9, 0.2, 0.5, 0.1, 0.7, 0.3, 0.8, 0.4, 0.6, 1.0][position] ?? 0, 3),
  });
});

describe("the same hybrid query ranks the same on LanceDB and Qdrant", () => {
  it("with the RAG defaults (dense weight 0.2, k 3) and with even weights", async () => {
    const directory = await mkdtemp(join(tmpdir(), "llm-twin-parity-"));
    directories.push(directory);
    const fake = checkedFakeQdrant();
    const stores: VectorStore[] = [
      await openVectorStore(`lancedb:${directory}`),
      await openQdrantStore({ url: "http://fake", transport: fake.transport }),
    ];
    for (const store of stores) {
      await store.upsert(chunks);
      await store.optimize();
    }
    for (const hybrid of [
      { fusion: "rrf" as const, denseWeight: 0.2, rrfK: 3 },
      { fusion: "rrf" as const, denseWeight: 0.5, rrfK: 60 },
      { fusion: "rrf" as const, denseWeight: 0.8, rrfK: 1 },
      // k values Qdrant's own rrf refuses (integer >= 1): fine, the fusion is client-side.
      { fusion: "rrf" as const, denseWeight: 0.3, rrfK: 0 },
      { fusion: "rrf" as const, denseWeight: 0.6, rrfK: 2.5 },
    ]) {
      const request = { category: "articles" as const, vector: axisVector(2), text: "heron", limit: 6, hybrid };
      const lexical = await Promise.all(stores.map((store) => store.search({ ...request, mode: "lexical" })));
      expect(ids(lexical[0] ?? [])).toEqual(ids(lexical[1] ?? []));
      const [lance, qdrant] = await Promise.all(stores.map((store) => store.search({ ...request, mode: "hybrid" })));
      expect(ids(qdrant ?? [])).toEqual(ids(lance ?? []));
      for (const [position, hit] of (qdrant ?? []).entries()) {
        expect(hit.score).toBeCloseTo(lance?.[position]?.score ?? Number.NaN, 10);
      }
    }
    // Qdrant's server-side weighted RRF, 1 / ((rank0 + 1) / w + k - 1), on the same two lists
    // orders them differently from the project's w / (k + rank): why the adapter fuses client-side.
    const request = { category: "articles" as const, vector: axisVector(2), text: "heron", limit: 40 };
    const dense = ids(await (stores[0] as VectorStore).search({ ...request, mode: "dense" }));
    const lexical = ids(await (stores[0] as VectorStore).search({ ...request, mode: "lexical" }));
    const serverSide = new Map<string, number>();
    for (const [list, weight] of [
      [dense, 0.2],
      [lexical, 0.8],
    ] as const) {
      for (const [rank0, id] of list.entries()) {
        serverSide.set(id, (serverSide.get(id) ?? 0) + 1 / ((rank0 + 1) / weight + 3 - 1));
      }
    }
    const serverOrder = [...serverSide.entries()].sort((left, right) => right[1] - left[1]).map(([id]) => id);
    const hybrid = await (stores[1] as VectorStore).search({
      ...request,
      mode: "hybrid",
      limit: 6,
      hybrid: { fusion: "rrf" as const, denseWeight: 0.2, rrfK: 3 },
    });
    expect(serverOrder.slice(0, 6)).not.toEqual(ids(hybrid));
    for (const store of stores) await store[Symbol.asyncDispose]();
  });
});
