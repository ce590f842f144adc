import { describe, expect, it } from "vitest";
import { queryHalfOf, selectQueryHalf } from "./query-halves.js";

describe("query halves", () => {
  const queries = Array.from({ length: 400 }, (_, index) => ({ id: String(index) }));

  it("splits by the query id alone, into two disjoint halves of about the same size", () => {
    const tune = selectQueryHalf(queries, "tune");
    const heldOut = selectQueryHalf(queries, "held-out");
    expect(tune.length + heldOut.length).toBe(queries.length);
    expect(new Set([...tune, ...heldOut].map((query) => query.id)).size).toBe(queries.length);
    expect(Math.abs(tune.length - heldOut.length)).toBeLessThan(60);
    // the same id lands in the same half whatever the order or company
    expect(
      selectQueryHalf([...queries].reverse(), "tune")
        .map((query) => query.id)
        .sort(),
    ).toEqual(tune.map((query) => query.id).sort());
    expect(queryHalfOf("0")).toBe(queryHalfOf("0"));
    expect(selectQueryHalf(queries, "all")).toEqual(queries);
  });
});
