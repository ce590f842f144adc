/**
 * `llm-twin dataset preferences` reading the RAG service's own feedback store: answers rated with
 * POST /feedback on a real RAG app (file store, and Redis when redis-server is installed) become DPO
 * pairs, with the store in the manifest's lineage; a traces file given too is merged by trace id.
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openRedisFeedbackStore } from "../../src/rag/feedback/redis-store.js";
import { type FeedbackStore, openFeedbackStore } from "../../src/rag/feedback/store.js";
import { buildHarness } from "../../src/rag/testing/app-harness.js";
import { REDIS_MISSING, type RunningRedis, redisServerAvailable, startRedis } from "../queue/redis-server.js";
import { runCli } from "./run-cli.js";

/** Two answers to the same question (one liked, one disliked) and a disliked answer to another. */
async function rateAnswers(store: FeedbackStore): Promise<string[]> {
  const { app, llm } = await buildHarness({ feedback: { store, commentMaxChars: 200 } });
  const ask = async (query: string, answer: string, rating: "up" | "down") => {
    llm.defaultText = answer;
    llm.streamTokens = [answer];
    const response = await app.inject({ method: "POST", url: "/rag", payload: { query, stream: false } });
    expect(response.statusCode).toBe(200);
    const traceId = String(response.headers["x-trace-id"]);
    const posted = await app.inject({ method: "POST", url: "/feedback", payload: { traceId, rating } });
    expect(posted.statusCode).toBe(201);
    return traceId;
  };
  const ids = [
    await ask("What is RAG?", "RAG retrieves the author's texts, then writes.", "up"),
    await ask("what is RAG", "No idea at all.", "down"),
    await ask("Explain LoRA adapters", "LoRA is a fruit.", "down"),
  ];
  await app.close();
  return ids;
}

describe("llm-twin dataset preferences from the feedback store", () => {
  let scratch: string;
  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), "llm-twin-preferences-feedback-"));
  });
  afterAll(async () => {
    await rm(scratch, { recursive: true, force: true });
  });

  it("pairs the answers rated through POST /feedback (file store)", async () => {
    const file = join(scratch, "feedback.jsonl");
    const store = await openFeedbackStore({ file, capacity: 100 });
    const [liked, disliked] = await rateAnswers(store);
    await store[Symbol.asyncDispose]();
    const artifacts = join(scratch, "artifacts-file");
    const result = await runCli(
      "dataset",
      "preferences",
      "--from-traces",
      "--feedback-file",
      file,
      "--test-fraction",
      "0",
      "--artifacts",
      artifacts,
      "--json",
    );
    expect(result.stderr).toBe("");
    const summary = JSON.parse(result.stdout);
    expect(summary.counts).toMatchObject({ traces: 3, liked: 1, disliked: 2, fromLikedAnswers: 1 });
    expect(summary.counts.pairs + summary.counts.unpaired).toBe(2);
    expect(summary.lineage).toMatchObject({ traces: null, feedback: { store: `file:${file}`, entries: 3 } });
    const pairs = (await readFile(join(summary.path, "train.preferences.jsonl"), "utf8"))
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line));
    expect(pairs).toContainEqual({
      prompt: "what is RAG",
      chosen: "RAG retrieves the author's texts, then writes.",
      rejected: "No idea at all.",
      chosen_source: "liked_answer",
      rejected_trace: disliked,
      chosen_trace: liked,
    });
    const shown = await runCli("artifacts", "show", summary.version, "--artifacts", artifacts);
    expect(shown.stdout).toContain(`feedback      file:${file} (3 entries`);
    const listed = await runCli("artifacts", "list", "--artifacts", artifacts);
    expect(listed.stdout).toContain(`feedback file:${file}`);
  });

  it("merges a traces file with the store, the store's rating winning for a trace in both", async () => {
    const file = join(scratch, "feedback-merge.jsonl");
    const store = await openFeedbackStore({ file, capacity: 100 });
    const [liked] = await rateAnswers(store);
    await store[Symbol.asyncDispose]();
    // The same liked trace, rated "dislike" in the file: the store says "up", so it stays liked.
    const traces = join(scratch, "traces.jsonl");
    const entry = JSON.parse((await readFile(file, "utf8")).split("\n")[0] as string);
    await writeFile(traces, `${JSON.stringify({ ...entry.trace, feedback: { rating: "dislike" } })}\n`);
    const result = await runCli(
      "dataset",
      "preferences",
      "--feedback-file",
      file,
      "--traces",
      traces,
      "--artifacts",
      join(scratch, "artifacts-merge"),
      "--json",
    );
    expect(result.stderr).toBe("");
    const summary = JSON.parse(result.stdout);
    expect(entry.traceId).toBe(liked);
    expect(summary.counts).toMatchObject({ traces: 3, liked: 1, disliked: 2 });
    expect(summary.lineage.traces).toMatchObject({ file: traces });
    expect(summary.lineage.feedback).toMatchObject({ entries: 3 });
  });

  it("says what to do when there is no feedback yet", async () => {
    const result = await runCli(
      "dataset",
      "preferences",
      "--from-traces",
      "--feedback-file",
      join(scratch, "none.jsonl"),
      "--artifacts",
      scratch,
    );
    expect(result.stderr).toMatch(
      /^llm-twin: no feedback yet: .*none\.jsonl does not exist .* --feedback-store redis:\/\/… \(LLM_TWIN_FEEDBACK_STORE\) or --traces <file\.jsonl> \(LLM_TWIN_TRACE_FILE\) \[not_found\]\n$/,
    );
    const badUrl = await runCli("dataset", "preferences", "--feedback-store", "http://x", "--artifacts", scratch);
    expect(badUrl.stderr).toMatch(
      /--feedback-store \(LLM_TWIN_FEEDBACK_STORE\): must be a redis:\/\/ or rediss:\/\/ URL .*\[configuration_error\]\n$/,
    );
  });
});

const hasRedis = redisServerAvailable();
if (!hasRedis) console.warn(REDIS_MISSING);
describe.skipIf(!hasRedis)("llm-twin dataset preferences from the feedback store in Redis", () => {
  let redis: RunningRedis;
  let scratch: string;
  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), "llm-twin-preferences-redis-"));
    redis = await startRedis();
  }, 30_000);
  afterAll(async () => {
    await redis?.stop();
    await rm(scratch, { recursive: true, force: true });
  });

  it("reads the replicas' shared feedback list", async () => {
    const store = await openRedisFeedbackStore({ url: redis.url, capacity: 100 });
    await rateAnswers(store);
    await store[Symbol.asyncDispose]();
    const result = await runCli(
      "dataset",
      "preferences",
      "--feedback-store",
      redis.url,
      "--artifacts",
      join(scratch, "artifacts-redis"),
      "--json",
    );
    expect(result.stderr).toBe("");
    const summary = JSON.parse(result.stdout);
    expect(summary.counts).toMatchObject({ traces: 3, liked: 1, disliked: 2, fromLikedAnswers: 1 });
    expect(summary.lineage.feedback.store).toBe(redis.url.replace(/^redis:\/\/[^@]*@/, "redis://"));
  });
});
