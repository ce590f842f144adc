import { describe, expect, it } from "vitest";
import { reciprocalRankFusion } from "./fusion.js";

describe("reciprocalRankFusion", () => {
  it("sums weight / (k + rank) over the lists, best first", () => {
    const fused = reciprocalRankFusion([{ ids: ["a", "b", "c"] }, { ids: ["b", "c", "d"] }], { k: 60 });
    expect(fused.map((result) => result.id)).toEqual(["b", "c", "a", "d"]);
    expect(fused[0]?.score).toBeCloseTo(1 / 62 + 1 / 61, 12);
    expect(fused[2]?.score).toBeCloseTo(1 / 61, 12);
  });

  it("weights lists and skips a list of weight 0", () => {
    const lists = [
      { ids: ["dense-1", "both"], weight: 0.8 },
      { ids: ["lexical-1", "both"], weight: 0.2 },
    ];
    expect(reciprocalRankFusion(lists, { k: 1 }).map((result) => result.id)).toEqual(["dense-1", "both", "lexical-1"]);
    const denseOnly = reciprocalRankFusion([lists[0] ?? { ids: [] }, { ...lists[1], ids: ["x"], weight: 0 }]);
    expect(denseOnly.map((result) => result.id)).toEqual(["dense-1", "both"]);
  });

  it("counts a duplicate within one list once, at its best rank", () => {
    const fused = reciprocalRankFusion([{ ids: ["a", "a", "b"] }], { k: 0 });
    expect(fused).toEqual([
      { id: "a", score: 1 },
      { id: "b", score: 0.5 },
    ]);
  });

  it("breaks ties by first appearance and uses k = 60 by default", () => {
    const fused = reciprocalRankFusion([{ ids: ["x"] }, { ids: ["y"] }]);
    expect(fused.map((result) => result.id)).toEqual(["x", "y"]);
    expect(fused[0]?.score).toBeCloseTo(1 / 61, 12);
    expect(reciprocalRankFusion([])).toEqual([]);
  });

  it("rejects a negative k or weight", () => {
    expect(() => reciprocalRankFusion([{ ids: ["a"] }], { k: -1 })).toThrow(RangeError);
    expect(() => reciprocalRankFusion([{ ids: ["a"], weight: -0.5 }])).toThrow(RangeError);
  });
});
