import { describe, expect, it } from "vitest";
import type { SearchHit } from "../../vector-store/index.js";
import { boostTitleMatches, contentWords, stemWord, titleMatch } from "./title-boost.js";

const hit = (id: string, title: string, score: number): SearchHit => ({
  chunk: {
    id,
    documentId: `document-${id}`,
    category: "articles",
    author: { id: "a", fullName: "A" },
    platform: "test",
    title,
    link: "",
    text: "",
  } as SearchHit["chunk"],
  score,
});

describe("title matches", () => {
  it("compares content words after stripping common suffixes", () => {
    expect(stemWord("models")).toBe(stemWord("model"));
    expect(stemWord("merging")).toBe(stemWord("merge"));
    expect(stemWord("strategies")).toBe(stemWord("strategy"));
    expect([...contentWords("How do I merge the models?")].sort()).toEqual(
      [stemWord("merge"), stemWord("models")].sort(),
    );
    expect(titleMatch(contentWords("merge large language models"), "Merge Large Language Models with mergekit")).toBe(
      1,
    );
    expect(titleMatch(contentWords("merge two models"), "Decoding strategies")).toBe(0);
  });

  it("moves a hit whose title holds the query's words above a slightly better-scored one", () => {
    const hits = [hit("1", "Decoding strategies", 10), hit("2", "Merge models with mergekit", 9), hit("3", "Other", 1)];
    const boosted = boostTitleMatches(hits, "how to merge models", 0.5);
    expect(boosted.map((entry) => entry.chunk.id)).toEqual(["2", "1", "3"]);
    expect(boosted[0]?.score).toBeCloseTo(0.9 + 0.5, 12);
    expect(boosted[1]?.score).toBeCloseTo(1, 12);
  });

  it("leaves the list as it is with weight 0 or a query of stop words only, and rejects a negative weight", () => {
    const hits = [hit("1", "Merge models", 1), hit("2", "Other", 2)];
    expect(boostTitleMatches(hits, "merge models", 0)).toEqual(hits);
    expect(boostTitleMatches(hits, "how is it", 1)).toEqual(hits);
    expect(() => boostTitleMatches(hits, "merge", -1)).toThrow(RangeError);
  });
});
