import { describe, expect, it } from "vitest";
import { mean, mrrAtK, ndcgAtK, percentile, recallAtK, uniqueInOrder } from "./metrics.js";

const judged = (entries: [string, number][]) => new Map(entries);

describe("ndcgAtK", () => {
  it("is 1 for the ideal order and 0 without any relevant document", () => {
    expect(
      ndcgAtK(
        ["a", "b", "x"],
        judged([
          ["a", 1],
          ["b", 1],
        ]),
        10,
      ),
    ).toBe(1);
    expect(ndcgAtK(["x", "y"], judged([["a", 1]]), 10)).toBe(0);
  });

  it("matches a hand-computed value with binary relevance", () => {
    // ranks: x, a, y, b → DCG = 1/log2(3) + 1/log2(5) = 0.63093 + 0.43068 = 1.06161
    // ideal: 1/log2(2) + 1/log2(3) = 1.63093 → 0.65092
    expect(
      ndcgAtK(
        ["x", "a", "y", "b"],
        judged([
          ["a", 1],
          ["b", 1],
        ]),
        10,
      ),
    ).toBeCloseTo(0.650921, 5);
  });

  it("uses graded gains and cuts at k", () => {
    // ranks: b(1), a(2) → DCG = 1 + 2/log2(3) = 2.26186; ideal a(2), b(1) = 2 + 1/log2(3) = 2.63093
    expect(
      ndcgAtK(
        ["b", "a"],
        judged([
          ["a", 2],
          ["b", 1],
        ]),
        10,
      ),
    ).toBeCloseTo(2.26186 / 2.63093, 4);
    // k = 1: only b counts → 1 / ideal@1 (= 2)
    expect(
      ndcgAtK(
        ["b", "a"],
        judged([
          ["a", 2],
          ["b", 1],
        ]),
        1,
      ),
    ).toBeCloseTo(0.5, 10);
  });

  it("caps the ideal DCG at k relevant documents", () => {
    const three = judged([
      ["a", 1],
      ["b", 1],
      ["c", 1],
    ]);
    expect(ndcgAtK(["a", "b"], three, 2)).toBe(1);
  });
});

describe("recallAtK and mrrAtK", () => {
  const judgments = judged([
    ["a", 1],
    ["b", 1],
    ["c", 1],
    ["d", 1],
  ]);
  it("counts relevant documents within the cut-off", () => {
    expect(recallAtK(["a", "x", "b", "c"], judgments, 2)).toBe(0.25);
    expect(recallAtK(["a", "x", "b", "c"], judgments, 10)).toBe(0.75);
    expect(recallAtK([], judgments, 10)).toBe(0);
  });
  it("is the reciprocal rank of the first relevant document within k", () => {
    expect(mrrAtK(["x", "y", "c"], judgments, 10)).toBeCloseTo(1 / 3, 10);
    expect(mrrAtK(["x", "y", "c"], judgments, 2)).toBe(0);
    expect(mrrAtK(["b"], judgments, 1)).toBe(1);
  });
});

describe("helpers", () => {
  it("interpolates percentiles and keeps first occurrences", () => {
    expect(percentile([1, 2, 3, 4], 0.5)).toBe(2.5);
    expect(percentile([10, 20, 30, 40, 50], 0.95)).toBeCloseTo(48, 10);
    expect(Number.isNaN(percentile([], 0.5))).toBe(true);
    expect(mean([1, 2, 6])).toBe(3);
    expect(uniqueInOrder(["a", "b", "a", "c", "b"])).toEqual(["a", "b", "c"]);
  });
});
