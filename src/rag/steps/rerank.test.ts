import { describe, expect, it } from "vitest";
import type { Reranker } from "../rerank/port.js";
import { makeChunk, PAUL } from "../testing/fakes.js";
import { createRerankStep, fuseResultLists } from "./rerank.js";
import type { ResultList } from "./search.js";

const a = makeChunk("a", PAUL, "articles", "alpha text");
const b = makeChunk("b", PAUL, "articles", "beta text");
const c = makeChunk("c", PAUL, "posts", "gamma text");

const lists: ResultList[] = [
  {
    query: 0,
    category: "articles",
    hits: [
      { chunk: a, score: 0.9 },
      { chunk: b, score: 0.8 },
    ],
  },
  {
    query: 1,
    category: "articles",
    hits: [
      { chunk: b, score: 0.7 },
      { chunk: a, score: 0.6 },
    ],
  },
  { query: 0, category: "posts", hits: [{ chunk: c, score: 0.5 }] },
  { query: 1, category: "posts", hits: [{ chunk: c, score: 0.5 }] },
];

describe("rerank step", () => {
  it("fuses lists by reciprocal rank and deduplicates by chunk id", () => {
    const fused = fuseResultLists(lists, 60);
    expect(fused.map((item) => item.chunk.id).sort()).toEqual(["a", "b", "c"]);
    expect(fused[0]?.score).toBeCloseTo(2 / 61, 10);
    expect(new Set(fused.map((item) => item.chunk.id)).size).toBe(fused.length);
  });

  it("keeps k without a reranker", async () => {
    const step = createRerankStep({ rrfK: 60, candidates: 10 });
    expect(await step("q", lists, { k: 2 })).toHaveLength(2);
  });

  it("scores candidates with the reranker against the original query and keeps the best k", async () => {
    const seen: { query: string; documents: readonly string[] }[] = [];
    const reranker: Reranker = {
      id: "fake-reranker",
      async score(query, documents) {
        seen.push({ query, documents });
        return documents.map((document) => (document.startsWith("gamma") ? 5 : document.startsWith("beta") ? 3 : 1));
      },
      async [Symbol.asyncDispose]() {},
    };
    const step = createRerankStep({ reranker, rrfK: 60, candidates: 10 });
    const kept = await step("the original query", lists, { k: 2 });
    expect(kept.map((item) => item.chunk.id)).toEqual(["c", "b"]);
    expect(kept.map((item) => item.score)).toEqual([5, 3]);
    expect(seen[0]?.query).toBe("the original query");
    expect(seen[0]?.documents).toHaveLength(3);
  });
});
