/** POST/GET /feedback on the RAG app: storage with the trace, 404s, keys, rate limits, metrics, durability, retention. */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { formatFeedback } from "../../cli/commands/traces.js";
import { type FeedbackEntry, openFeedbackStore } from "../feedback/store.js";
import { buildHarness } from "../testing/app-harness.js";
import type { RagHttpConfig } from "./app.js";

let directory: string;
beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), "feedback-"));
});
afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

async function harnessWithFeedback(file: string, http: Partial<RagHttpConfig> = {}) {
  const store = await openFeedbackStore({ file, capacity: 100 });
  return buildHarness({ http, feedback: { store, commentMaxChars: 40 } });
}

describe("POST /feedback", () => {
  it("stores a rating with the answer's trace, lists it, and counts it in /metrics", async () => {
    const file = join(directory, "one.jsonl");
    const { app } = await harnessWithFeedback(file);
    const answer = await app.inject({ method: "POST", url: "/rag", payload: { query: "What is RAG?" } });
    const traceId = String(answer.headers["x-trace-id"]);
    const posted = await app.inject({
      method: "POST",
      url: "/feedback",
      payload: { traceId, rating: "down", comment: "too vague" },
    });
    expect(posted.statusCode).toBe(201);
    expect(posted.json()).toMatchObject({
      traceId,
      rating: "down",
      comment: "too vague",
      createdAt: expect.any(String),
    });
    await app.inject({ method: "POST", url: "/feedback", payload: { traceId, rating: "up" } });

    const down = (await app.inject({ method: "GET", url: "/feedback?rating=down" })).json() as {
      feedback: FeedbackEntry[];
    };
    expect(down.feedback).toHaveLength(1);
    expect(down.feedback[0]?.trace.id).toBe(traceId);
    expect(down.feedback[0]?.trace.attributes.query).toBe("What is RAG?");
    const all = (await app.inject({ method: "GET", url: "/feedback" })).json() as { feedback: FeedbackEntry[] };
    expect(all.feedback.map((entry) => entry.rating)).toEqual(["up", "down"]);

    const metrics = (await app.inject({ method: "GET", url: "/metrics" })).body;
    expect(metrics).toContain('llm_twin_rag_feedback_total{rating="down"} 1');
    expect(metrics).toContain('llm_twin_rag_feedback_total{rating="up"} 1');

    const text = formatFeedback(down.feedback[0] as FeedbackEntry);
    expect(text).toContain('rating=down  "too vague"');
    expect(text).toContain("--- prompt\n[system]");
    expect(text).toContain("What is RAG?");
    await app.close();

    const lines = (await readFile(file, "utf8")).trim().split("\n");
    expect(lines).toHaveLength(2);
    const reopened = await openFeedbackStore({ file, capacity: 100 });
    expect((await reopened.forTrace(traceId)).map((entry) => entry.rating)).toEqual(["up", "down"]);
  });

  it("answers 404 for an unknown trace and a validation error for a bad body", async () => {
    const { app } = await harnessWithFeedback(join(directory, "two.jsonl"));
    const unknown = await app.inject({
      method: "POST",
      url: "/feedback",
      payload: { traceId: "f".repeat(32), rating: "up" },
    });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json()).toMatchObject({ error: { code: "not_found" } });
    for (const payload of [
      { traceId: "f".repeat(32), rating: "meh" },
      { traceId: "not-a-trace", rating: "up" },
      { traceId: "f".repeat(32), rating: "up", comment: "x".repeat(41) },
      { rating: "up" },
    ]) {
      const response = await app.inject({ method: "POST", url: "/feedback", payload });
      expect(response.statusCode).toBe(422);
      expect(response.json()).toMatchObject({ error: { code: "validation_error" } });
    }
    // A wrong rating says which ratings exist.
    const meh = await app.inject({
      method: "POST",
      url: "/feedback",
      payload: { traceId: "f".repeat(32), rating: "like" },
    });
    expect(meh.json().error.message).toBe(
      'invalid request: `rating`: must be equal to one of the allowed values ("up", "down")',
    );
    await app.close();
  });

  it("needs the API key and obeys the rate limit like the other routes", async () => {
    const { app } = await harnessWithFeedback(join(directory, "three.jsonl"), {
      apiKeys: ["secret"],
      rateLimit: { max: 2, timeWindowMs: 60_000 },
    });
    const payload = { traceId: "f".repeat(32), rating: "up" };
    expect((await app.inject({ method: "POST", url: "/feedback", payload })).statusCode).toBe(401);
    const headers = { authorization: "Bearer secret" };
    expect((await app.inject({ method: "POST", url: "/feedback", payload, headers })).statusCode).toBe(404);
    expect((await app.inject({ method: "POST", url: "/feedback", payload, headers })).statusCode).toBe(404);
    expect((await app.inject({ method: "POST", url: "/feedback", payload, headers })).statusCode).toBe(429);
    await app.close();
  });
});

describe("feedback store", () => {
  it("keeps the newest entries up to its capacity, compacts its file, and reloads after a restart", async () => {
    const file = join(directory, "retention.jsonl");
    const store = await openFeedbackStore({ file, capacity: 3 });
    const trace = {
      id: "t",
      rootSpanId: "r",
      name: "rag",
      startTime: 0,
      durationMs: 0,
      status: "ok" as const,
      attributes: {},
      spans: [],
    };
    for (let index = 0; index < 7; index++) {
      await store.add({
        traceId: `t${index}`,
        rating: index % 2 === 0 ? "up" : "down",
        createdAt: `2026-01-0${index + 1}`,
        trace,
      });
    }
    expect((await store.list()).map((entry) => entry.traceId)).toEqual(["t6", "t5", "t4"]);
    expect((await store.list({ rating: "down", limit: 1 })).map((entry) => entry.traceId)).toEqual(["t5"]);
    await store[Symbol.asyncDispose]();
    const lines = (await readFile(file, "utf8")).trim().split("\n");
    expect(lines.length).toBeLessThan(6);
    const reopened = await openFeedbackStore({ file, capacity: 3 });
    expect((await reopened.list()).map((entry) => entry.traceId)).toEqual(["t6", "t5", "t4"]);
  });
});
