/** `llm-twin dataset preferences` on a traces JSON Lines file with feedback, through the CLI. */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "./run-cli.js";

const DAY = 86_400_000;

function trace(id: string, ageDays: number, query: string, answer: string, extra: Record<string, unknown> = {}) {
  return {
    id,
    rootSpanId: "0".repeat(16),
    name: "rag",
    startTime: Date.now() - ageDays * DAY,
    durationMs: 10,
    status: "ok",
    attributes: { query },
    spans: [
      { name: "retrieval", attributes: { retrievedChunks: [{ id: "c1", text: `Paul's own words about ${query}` }] } },
      { name: "generation", attributes: { answer } },
    ],
    ...extra,
  };
}

describe("llm-twin dataset preferences", () => {
  let scratch: string;
  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), "llm-twin-preferences-"));
  });
  afterAll(async () => {
    await rm(scratch, { recursive: true, force: true });
  });

  it("pairs disliked answers with liked answers to the same question, else the author's source text", async () => {
    const traces = join(scratch, "traces.jsonl");
    const lines = [
      trace("t1", 1, "What is RAG?", "RAG retrieves then generates.", { feedback: { rating: "like" } }),
      trace("t2", 2, "what is rag", "No idea.", { feedback: { rating: "dislike" } }),
      trace("t3", 3, "Explain LoRA", "LoRA is a fruit."),
      { traceId: "t3", rating: "down" }, // feedback on its own line
      trace("t4", 30, "Old question", "Old bad answer", { feedback: { rating: "dislike" } }), // outside --since 7d
      trace("t5", 1, "Unrated", "Fine."),
    ];
    await writeFile(traces, `${lines.map((line) => JSON.stringify(line)).join("\n")}\n{"torn":`);
    const artifacts = join(scratch, "artifacts");
    const result = await runCli(
      "dataset",
      "preferences",
      "--from-traces",
      "--traces",
      traces,
      "--feedback-file",
      join(scratch, "no-feedback.jsonl"),
      "--since",
      "7d",
      "--test-fraction",
      "0",
      "--artifacts",
      artifacts,
      "--json",
    );
    expect(result.stderr).toBe("");
    const summary = JSON.parse(result.stdout);
    expect(summary.counts).toMatchObject({
      traces: 5,
      malformed: 1,
      inWindow: 4,
      liked: 1,
      disliked: 2,
      pairs: 2,
      fromLikedAnswers: 1,
      fromAuthorSources: 1,
      unpaired: 0,
      train: 2,
      test: 0,
    });
    expect(summary.lineage.traces).toMatchObject({ file: traces, since: "7d" });
    const pairs = (await readFile(join(summary.path, "train.preferences.jsonl"), "utf8"))
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line));
    expect(pairs).toEqual(
      expect.arrayContaining([
        {
          prompt: "what is rag",
          chosen: "RAG retrieves then generates.",
          rejected: "No idea.",
          chosen_source: "liked_answer",
          rejected_trace: "t2",
          chosen_trace: "t1",
        },
        {
          prompt: "Explain LoRA",
          chosen: "Paul's own words about Explain LoRA",
          rejected: "LoRA is a fruit.",
          chosen_source: "author_source",
          rejected_trace: "t3",
          chosen_trace: null,
        },
      ]),
    );
    const listed = await runCli("artifacts", "list", "--artifacts", artifacts);
    expect(listed.stdout).toMatch(
      new RegExp(
        `${summary.version}\\s+preferences\\s+\\S+\\s+2\\s+traces ${traces.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}`,
      ),
    );
  });

  it("refuses a --traces folder and a file without any trace, instead of writing an empty dataset", async () => {
    const folder = await runCli("dataset", "preferences", "--traces", scratch, "--artifacts", scratch);
    expect(folder.exitCode).toBe(1);
    expect(folder.stderr).toBe(
      `llm-twin: --traces ${scratch} is a folder: give the trace log file (JSON Lines, written by serve-rag --trace-file) [bad_request]\n`,
    );
    const wrong = join(scratch, "notes.txt");
    await writeFile(wrong, 'not json\n{"a": 1}\n');
    const notTraces = await runCli("dataset", "preferences", "--traces", wrong, "--artifacts", scratch);
    expect(notTraces.exitCode).toBe(1);
    expect(notTraces.stdout).toBe("");
    expect(notTraces.stderr).toBe(
      `llm-twin: none of the 2 line(s) of --traces ${wrong} is a trace or a rating: give the trace log of serve-rag --trace-file (JSON Lines) [bad_request]\n`,
    );
  });

  it("says what to do when the traces file is missing or --since is malformed", async () => {
    const missing = await runCli(
      "dataset",
      "preferences",
      "--from-traces",
      "--traces",
      join(scratch, "none.jsonl"),
      "--artifacts",
      scratch,
    );
    expect(missing.stderr).toMatch(
      /no traces file .* \(start serve-rag with --trace-file, or pass --traces <file.jsonl>\) \[not_found\]\n$/,
    );
    const noFile = await runCli(
      "dataset",
      "preferences",
      "--from-traces",
      "--feedback-file",
      join(scratch, "no-feedback.jsonl"),
      "--artifacts",
      scratch,
    );
    expect(noFile.stderr).toMatch(
      /no feedback yet: .* or --traces <file.jsonl> \(LLM_TWIN_TRACE_FILE\) \[not_found\]\n$/,
    );
    const since = await runCli(
      "dataset",
      "preferences",
      "--traces",
      join(scratch, "x"),
      "--since",
      "a week",
      "--artifacts",
      scratch,
    );
    expect(since.stderr).toMatch(/--since a week: expected a duration like 7d, 12h or 30m \[configuration_error\]\n$/);
  });
});
