import { describe, expect, it } from "vitest";
import { agreementFusion, fuseHybrid, listAgreement, reciprocalRankFusion } from "./fusion.js";

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

describe("listAgreement", () => {
  it("is the share of the shorter top-depth prefix the two lists have in common", () => {
    expect(listAgreement(["a", "b", "c", "d"], ["c", "a", "x", "y"], 2)).toBe(0.5);
    expect(listAgreement(["a", "b"], ["x", "y"], 2)).toBe(0);
    expect(listAgreement(["a", "b", "c", "d"], ["c", "a", "x", "y"], 3)).toBeCloseTo(2 / 3, 12);
    expect(listAgreement(["a", "b"], ["b", "a", "x", "y"], 20)).toBe(1);
    expect(listAgreement([], ["a"], 20)).toBe(0);
    expect(() => listAgreement(["a"], ["a"], 0)).toThrow(RangeError);
  });
});

describe("agreementFusion", () => {
  const lexical = [
    { id: "l1", score: 10 },
    { id: "l2", score: 8 },
    { id: "both", score: 5 },
  ];

  it("keeps the lexical order when the dense list disagrees entirely", () => {
    const dense = [
      { id: "d1", score: 0.9 },
      { id: "d2", score: 0.89 },
    ];
    const fused = agreementFusion({ dense, lexical }, { denseWeight: 1 });
    expect(fused.map((result) => result.id)).toEqual(["l1", "l2", "both", "d1", "d2"]);
    expect(fused[0]?.score).toBe(1);
    expect(fused.at(-1)?.score).toBe(0);
  });

  it("lets an agreeing dense list reorder, in proportion to the agreement and the weight", () => {
    const dense = [
      { id: "both", score: 0.9 },
      { id: "l2", score: 0.85 },
      { id: "l1", score: 0.1 },
    ];
    // full agreement: weight 0.5 → l1 = 0.5·1 + 0.5·0.111, l2 = 0.5·0.8 + 0.5·0.944, both = 0.5·0.5 + 0.5·1
    const fused = agreementFusion({ dense, lexical }, { denseWeight: 0.5 });
    expect(fused.map((result) => result.id)).toEqual(["l2", "both", "l1"]);
    expect(fused[0]?.score).toBeCloseTo(0.5 * 0.8 + 0.5 * (0.85 / 0.9), 12);
    // with weight 0 the lexical list alone decides
    expect(agreementFusion({ dense, lexical }, { denseWeight: 0 }).map((result) => result.id)).toEqual([
      "l1",
      "l2",
      "both",
    ]);
  });

  it("uses the other list alone when one is empty, and rejects a weight outside [0, 1]", () => {
    const dense = [{ id: "d1", score: 0.5 }];
    expect(agreementFusion({ dense, lexical: [] }, { denseWeight: 0.3 })).toEqual([{ id: "d1", score: 1 }]);
    expect(agreementFusion({ dense: [], lexical }, { denseWeight: 0.3 }).map((result) => result.id)).toEqual([
      "l1",
      "l2",
      "both",
    ]);
    expect(() => agreementFusion({ dense, lexical }, { denseWeight: 1.5 })).toThrow(RangeError);
  });
});

describe("fuseHybrid", () => {
  it("dispatches on the fusion method", () => {
    const dense = [{ id: "d", score: 0.9 }];
    const lexical = [{ id: "l", score: 3 }];
    expect(fuseHybrid(dense, lexical, { fusion: "rrf", denseWeight: 0.8, rrfK: 1 }).map((result) => result.id)).toEqual(
      ["d", "l"],
    );
    expect(
      fuseHybrid(dense, lexical, { fusion: "agreement", denseWeight: 0.8, rrfK: 1 }).map((result) => result.id),
    ).toEqual(["l", "d"]);
  });
});

describe("agreementFusion's dense depth", () => {
  it("gives a dense score only to the dense list's top ids; deeper ids stay, at 0 from it", () => {
    const lexical = [
      { id: "a", score: 2 },
      { id: "b", score: 1 },
    ];
    const dense = [
      { id: "a", score: 0.9 },
      { id: "b", score: 0.9 },
      { id: "deep", score: 0.89 },
    ];
    const fused = agreementFusion({ dense, lexical }, { denseWeight: 1, denseDepth: 2 });
    expect(fused.map((result) => result.id)).toEqual(["a", "b", "deep"]);
    expect(fused.at(-1)?.score).toBe(0);
    expect(() => agreementFusion({ dense, lexical }, { denseWeight: 1, denseDepth: 0 })).toThrow(RangeError);
  });
});
