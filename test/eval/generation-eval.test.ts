/**
 * `eval generation` end to end: the in-process twin (the RAG code over a real LanceDB store with the
 * project's sample data and a tiny generated chat model) scored by the scripted OpenAI-compatible
 * judge over HTTP (with junk replies mixed in) and the voice model; and the --rag-url twin against
 * the real RAG HTTP app. Mechanics only: random weights write gibberish.
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseEvalGenerationConfig } from "../../src/cli/commands/eval-generation.js";
import { createHttpTwin, runGenerationEvaluation } from "../../src/eval/generation/index.js";
import { tinyModelPath } from "../../src/gguf/index.js";
import { createLlamaCppLanguageModel } from "../../src/llm/llama-cpp/index.js";
import { inProcessPromptLimit } from "../../src/rag/service/run.js";
import { buildHarness, type Harness } from "../../src/rag/testing/app-harness.js";
import { type ScriptedJudge, startScriptedJudge } from "../../src/testing/scripted-judge.js";
import { projectRoot } from "../../src/testing/shared-datasets.js";

process.env.LANCEDB_LOG = "error";
const SAMPLE_DATA = resolve(projectRoot, "sample-data");

describe("eval generation in process", () => {
  let directory: string;
  let judge: ScriptedJudge;

  beforeAll(async () => {
    directory = await mkdtemp(join(tmpdir(), "eval-generation-e2e-"));
    judge = await startScriptedJudge((_, index) =>
      index === 1 ? { kind: "content", content: "{oops" } : { kind: "valid" },
    );
  });
  afterAll(async () => {
    await judge.close();
    await rm(directory, { recursive: true, force: true });
  });

  it("answers every question with the RAG pipeline, scores it, and records each answer's trace", async () => {
    const questions = join(directory, "questions.jsonl");
    await writeFile(
      questions,
      [
        {
          id: "one",
          question: "How big should chunks be for an embedding model?",
          author: "Ada Quill",
          reference: "Small enough for the model's context.",
        },
        { id: "two", question: "What does a reranker do?" },
      ]
        .map((line) => JSON.stringify(line))
        .join("\n"),
    );
    const traceFile = join(directory, "traces.jsonl");
    const run = await runGenerationEvaluation({
      questions,
      twin: {
        kind: "in-process",
        store: `lancedb:${join(directory, "store")}`,
        embedder: "static",
        corpus: SAMPLE_DATA,
        config: { expandQueries: 1, maxNewTokens: 24 },
        traceFile,
        loadLlm: async () => {
          const llm = await createLlamaCppLanguageModel({
            modelPath: await tinyModelPath("chat"),
            threads: 1,
            parallel: 1,
          });
          return { llm, extras: inProcessPromptLimit(llm.engine) };
        },
      },
      judge: { url: judge.url, model: "judge", timeoutMs: 10_000, retries: 0, concurrency: 2 },
      voiceCorpus: SAMPLE_DATA,
    });
    expect(run.results).toHaveLength(2);
    const [one, two] = run.results;
    for (const result of run.results) {
      expect(result.error).toBeUndefined();
      expect(result.sources.length).toBeGreaterThan(0);
      expect(result.traceId).toMatch(/^[0-9a-f]{32}$/);
      expect(result.timings.generationMs).toBeGreaterThan(0);
      expect(result.voice.value).not.toBeNull();
    }
    expect(one?.author).toBe("Ada Quill");
    // the second question names nobody: the author of the best source is the voice asked for
    expect(two?.author).toBe(two?.sources[0]?.author);
    // call 2 (the first question's answer relevance) was junk: missing with a reason, the rest scored
    expect(one?.judge.answerRelevance).toMatchObject({ value: null, reason: expect.stringContaining("not JSON") });
    expect(one?.judge.faithfulness?.value).toBe(0.75);
    expect(one?.judge.contextRecall?.value).toBe(0.5);
    expect(two?.judge.contextRecall).toEqual({ value: null, reason: "no reference answer for this question" });
    expect(judge.requests).toHaveLength(7);
    const traces = (await readFile(traceFile, "utf8"))
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as { id: string; spans: { name: string }[] });
    for (const result of run.results) {
      const trace = traces.find((candidate) => candidate.id === result.traceId);
      expect(trace?.spans.map((span) => span.name)).toContain("generation");
    }
    expect(run.judge?.promptsVersion).toBe("judge-v1");
    expect(run.voice?.authors).toEqual(["Ada Quill", "Tomás Reyes"]);
  }, 120_000);
});

describe("eval generation against a running RAG service (--rag-url)", () => {
  let harness: Harness;
  let url: string;

  beforeAll(async () => {
    harness = await buildHarness();
    await harness.app.listen({ port: 0, host: "127.0.0.1" });
    url = `http://127.0.0.1:${(harness.app.server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await harness.app.close();
  });

  it("gets the answer, the sources and the service's trace id", async () => {
    const twin = createHttpTwin({ url, timeoutMs: 10_000 });
    const answer = await twin.answer({ id: "q", question: "What is retrieval-augmented generation?" });
    expect(answer.error).toBeUndefined();
    expect(answer.answer.length).toBeGreaterThan(0);
    expect(answer.sources.length).toBeGreaterThan(0);
    expect(answer.traceId).not.toBeNull();
    expect(harness.traceLog.get(answer.traceId ?? "")?.name).toBe("rag");
    expect(answer.timings.totalMs).toBeGreaterThanOrEqual(0);
  });

  it("turns a service error into an answer with an error; a service it cannot reach stops the run", async () => {
    const twin = createHttpTwin({ url, timeoutMs: 10_000 });
    const rejected = await twin.answer({ id: "q", question: " " });
    expect(rejected.error?.code).toBe("validation_error");
    await expect(
      createHttpTwin({ url: "http://127.0.0.1:9", timeoutMs: 5_000 }).answer({ id: "q", question: "hi" }),
    ).rejects.toMatchObject({ code: "upstream_unavailable" });
  });
});

describe("eval generation flags", () => {
  const base = {
    questions: "q.jsonl",
    ragTimeoutMs: "1000",
    store: "lancedb:x",
    embedder: "static",
    embedderRequestTimeoutMs: "30000",
    embedderRetries: "2",
    llmApi: "tgi",
    traceFile: "t.jsonl",
    judgeModel: "judge",
    judgeTimeoutMs: "1000",
    judgeRetries: "2",
    judgeConcurrency: "4",
    voiceCorpus: "c.json",
    report: false,
    progress: "none",
  };

  it("needs exactly one twin and valid limits, with one clear message", () => {
    expect(() => parseEvalGenerationConfig(base)).toThrow(/no twin to evaluate: give --rag-url/);
    expect(() => parseEvalGenerationConfig({ ...base, ragUrl: "http://h:1", model: "demo" })).toThrow(
      /leave out --model/,
    );
    expect(() => parseEvalGenerationConfig({ ...base, model: "demo", llmUrl: "http://h" })).toThrow(/not both/);
    expect(() => parseEvalGenerationConfig({ ...base, model: "demo", judgeConcurrency: "0" })).toThrow(
      "--judge-concurrency (LLM_TWIN_JUDGE_CONCURRENCY): must be positive",
    );
    expect(() => parseEvalGenerationConfig({ ...base, model: "demo", judgeUrl: "localhost" })).toThrow(
      /--judge-url .* must be a URL/,
    );
    expect(parseEvalGenerationConfig({ ...base, ragUrl: "http://h:1" })).toMatchObject({
      ragUrl: "http://h:1",
      judgeRetries: 2,
    });
  });
});
