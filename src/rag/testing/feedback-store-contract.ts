/** The feedback port's contract, run over every adapter (the JSON Lines file and Redis). */
import { describe, expect, it } from "vitest";
import type { TraceRecord } from "../../observability/tracing/index.js";
import type { FeedbackEntry, FeedbackRating, FeedbackStore } from "../feedback/store.js";

export type FeedbackStoreFactory = {
  /** A fresh store (its own file or key) holding at most `capacity` entries. */
  open(capacity: number): Promise<{ store: FeedbackStore; reopen(): Promise<FeedbackStore> }>;
};

function entry(traceId: string, rating: FeedbackRating, comment?: string): FeedbackEntry {
  const trace = { id: traceId, name: "rag", attributes: { query: `question ${traceId}` }, spans: [] };
  return {
    traceId,
    rating,
    ...(comment === undefined ? {} : { comment }),
    createdAt: new Date().toISOString(),
    trace: trace as unknown as TraceRecord,
  };
}

export function feedbackStoreContract(name: string, factory: FeedbackStoreFactory): void {
  describe(`feedback store contract: ${name}`, () => {
    it("lists newest first, filters by rating, limits, and finds a trace's feedback", async () => {
      const { store } = await factory.open(10);
      await store.add(entry("t1", "up"));
      await store.add(entry("t2", "down", "too long"));
      await store.add(entry("t3", "down"));
      await store.add(entry("t2", "up"));
      expect((await store.list()).map((item) => item.traceId)).toEqual(["t2", "t3", "t2", "t1"]);
      expect((await store.list({ rating: "down" })).map((item) => item.traceId)).toEqual(["t3", "t2"]);
      expect((await store.list({ rating: "down", limit: 1 })).map((item) => item.traceId)).toEqual(["t3"]);
      expect((await store.forTrace("t2")).map((item) => item.rating)).toEqual(["up", "down"]);
      expect((await store.forTrace("t2"))[1]).toMatchObject({ comment: "too long", trace: { id: "t2" } });
      expect(await store.forTrace("none")).toEqual([]);
      await store[Symbol.asyncDispose]();
    });

    it("keeps only the newest `capacity` entries, across a reopen", async () => {
      const { store, reopen } = await factory.open(3);
      for (const id of ["a", "b", "c", "d", "e"]) await store.add(entry(id, id === "d" ? "down" : "up"));
      expect((await store.list()).map((item) => item.traceId)).toEqual(["e", "d", "c"]);
      await store[Symbol.asyncDispose]();
      const reopened = await reopen();
      expect((await reopened.list()).map((item) => item.traceId)).toEqual(["e", "d", "c"]);
      expect((await reopened.list({ rating: "down" })).map((item) => item.traceId)).toEqual(["d"]);
      await reopened[Symbol.asyncDispose]();
    });
  });
}
