/**
 * The search-ranking part of the VectorStore contract: lexical search, hybrid fusion and limits.
 * Registered inside the contract's describe block; `getStore` returns the current test's store.
 */
import { expect, it } from "vitest";
import { axisVector, contractChunk, contractId, expectDescending, ids } from "./contract-fixtures.js";
import { fuseHybrid } from "./fusion.js";
import type { SearchHit, VectorStore } from "./port.js";

export function runSearchRankingContract(getStore: () => VectorStore): void {
  it("finds an exact rare term with lexical search", async () => {
    const store = getStore();
    await store.upsert([
      contractChunk({ name: "common-1", text: "Retrieval augmented generation with vector databases." }),
      contractChunk({ name: "common-2", text: "Fine-tuning language models on instruction datasets." }),
      contractChunk({ name: "rare", text: "The xylophonist benchmark measures retrieval latency." }),
      contractChunk({ name: "common-3", text: "Vector databases store embeddings for retrieval." }),
    ]);
    await store.optimize();
    const hits = await store.search({ category: "articles", mode: "lexical", text: "xylophonist", limit: 10 });
    expect(ids(hits)).toEqual([contractId("rare")]);
    expect(hits[0]?.score).toBeGreaterThan(0);
    const ranked = await store.search({
      category: "articles",
      mode: "lexical",
      text: "vector databases retrieval",
      limit: 10,
    });
    expect(ranked.length).toBeGreaterThanOrEqual(2);
    expectDescending(ranked);
  });

  it("fuses dense and lexical results in hybrid search", async () => {
    const store = getStore();
    await store.upsert([
      contractChunk({ name: "dense-best", text: "Embeddings capture meaning.", vector: axisVector(0) }),
      contractChunk({ name: "lexical-best", text: "The quokka evaluation harness.", vector: axisVector(4) }),
      contractChunk({
        name: "both",
        text: "A quokka meets another quokka in embedding space.",
        vector: axisVector(0, 0.2),
      }),
      contractChunk({ name: "neither", text: "Unrelated prose about cooking.", vector: axisVector(5) }),
    ]);
    await store.optimize();
    const hits = await store.search({
      category: "articles",
      mode: "hybrid",
      vector: axisVector(0),
      text: "quokka",
      limit: 3,
      hybrid: { denseWeight: 0.5, rrfK: 60 },
    });
    expect(hits).toHaveLength(3);
    expect(hits[0]?.chunk.id).toBe(contractId("both"));
    expect(new Set(ids(hits))).toEqual(new Set(["both", "dense-best", "lexical-best"].map(contractId)));
    expectDescending(hits);
    const denseOnly = await store.search({
      category: "articles",
      mode: "hybrid",
      vector: axisVector(0),
      text: "quokka",
      limit: 2,
      hybrid: { denseWeight: 1 },
    });
    expect(ids(denseOnly)).toEqual(["dense-best", "both"].map(contractId));
  });

  it("honours the limit", async () => {
    const store = getStore();
    await store.upsert(
      Array.from({ length: 12 }, (_, position) =>
        contractChunk({
          name: `limit-${position}`,
          text: `Shared words number ${position}.`,
          vector: axisVector(0, position / 10),
        }),
      ),
    );
    await store.optimize();
    for (const mode of ["dense", "lexical", "hybrid"] as const) {
      const hits = await store.search({
        category: "articles",
        mode,
        vector: axisVector(0),
        text: "shared words",
        limit: 5,
      });
      expect(hits).toHaveLength(5);
    }
  });

  it("ranks hybrid results as the project's fusion of its own dense and lexical lists", async () => {
    const store = getStore();
    await store.upsert(
      Array.from({ length: 12 }, (_, position) =>
        contractChunk({
          name: `fused-${position}`,
          text: `${"kestrel ".repeat(position % 4)}note ${position} about owls`,
          vector: axisVector(position % 8, position / 12),
        }),
      ),
    );
    await store.optimize();
    // Both fusions, with the RAG service's weights (agreement: cap 0.3; rrf: 0.2, k 3).
    const base = { category: "articles" as const, vector: axisVector(1), text: "kestrel owls" };
    const dense = await store.search({ ...base, mode: "dense", limit: 40 });
    const lexical = await store.search({ ...base, mode: "lexical", limit: 40 });
    const scored = (hits: SearchHit[]) => hits.map((hit) => ({ id: hit.chunk.id, score: hit.score }));
    for (const hybrid of [
      { fusion: "rrf" as const, denseWeight: 0.2, rrfK: 3, candidates: 40 },
      { fusion: "agreement" as const, denseWeight: 0.3, rrfK: 3, candidates: 40 },
    ]) {
      const expected = fuseHybrid(scored(dense), scored(lexical), hybrid).slice(0, 6);
      const hits = await store.search({ ...base, mode: "hybrid", limit: 6, hybrid });
      expect(ids(hits)).toEqual(expected.map((entry) => entry.id));
      hits.forEach((hit, position) => {
        expect(hit.score).toBeCloseTo(expected[position]?.score ?? Number.NaN, 10);
      });
    }
  });
}
