/**
 * A fixed split of a dataset's queries into two halves, to tune on one and report on the other:
 * a query is "held-out" when the first byte of the SHA-1 of its id is odd, "tune" otherwise. It
 * depends on the id alone (not on the order or the number of queries), so every run, machine and
 * subset (--limit-queries applies after it) agrees on which query is where.
 */
import { createHash } from "node:crypto";

export const QUERY_HALVES = ["all", "tune", "held-out"] as const;
export type QueryHalf = (typeof QUERY_HALVES)[number];

export function queryHalfOf(id: string): Exclude<QueryHalf, "all"> {
  return ((createHash("sha1").update(id).digest()[0] ?? 0) & 1) === 1 ? "held-out" : "tune";
}

export function selectQueryHalf<Query extends { id: string }>(queries: readonly Query[], half: QueryHalf): Query[] {
  return half === "all" ? [...queries] : queries.filter((query) => queryHalfOf(query.id) === half);
}
