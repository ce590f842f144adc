/** The evaluation loop, summaries and reports, with an in-memory twin and the scripted judge server. */
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RagSource } from "../../rag/index.js";
import { freePort } from "../../testing/free-port.js";
import { type ScriptedJudge, startScriptedJudge } from "../../testing/scripted-judge.js";
import { buildVoiceModel, type VoiceDocument } from "../voice/index.js";
import { citationOverlap } from "./citation-overlap.js";
import { createLimiter, evaluateGeneration } from "./evaluate.js";
import { createOpenAiJudge } from "./judge.js";
import { parseQuestions } from "./questions.js";
import { formatGenerationTable, type GenerationRun, generationJson, writeGenerationReport } from "./report.js";
import { summarize } from "./summary.js";
import type { Twin } from "./twin.js";

function source(text: string, author = "Formal Writer"): RagSource {
  return {
    id: `chunk-${text.length}`,
    documentId: "doc",
    title: "A title",
    link: "https://example.com",
    author: { id: author.toLowerCase(), fullName: author },
    category: "articles",
    score: 0.5,
    text,
  };
}

const SOURCE_TEXT = "Vector databases store embeddings and answer nearest neighbour queries quickly.";

/** Answers from a script; question "fail" gets an error, like an LLM that is down. */
const fakeTwin: Twin = {
  description: "fake twin",
  async answer(question) {
    if (question.question === "fail") {
      return {
        answer: "",
        sources: [],
        traceId: null,
        author: null,
        timings: { totalMs: 1 },
        error: { code: "upstream_unavailable", message: "LLM down" },
      };
    }
    return {
      answer: "Vector databases store embeddings and answer nearest neighbour queries. Bananas are yellow fruit today.",
      sources: [source(SOURCE_TEXT), source("Unrelated passage about cooking pasta at home.")],
      traceId: `trace-${question.id}`,
      author: question.author ?? null,
      timings: {
        selfQueryMs: 1,
        expansionMs: 0,
        embeddingMs: 2,
        searchMs: 3,
        rerankMs: 0,
        generationMs: 10,
        totalMs: 16,
      },
    };
  },
};

const VOICE_DOCUMENTS: VoiceDocument[] = Array.from({ length: 6 }, (_, index) => [
  {
    id: `f${index}`,
    author: "Formal Writer",
    text: "Thus, the system is, in fact, rather robust; however, one must examine it. ".repeat(20 + index),
  },
  {
    id: `c${index}`,
    author: "Casual Writer",
    text: "So you just run it and boom, you're done! It's really that easy, trust me. ".repeat(20 + index),
  },
]).flat();

describe("generation evaluation", () => {
  let judgeServer: ScriptedJudge;
  let directory: string;

  beforeAll(async () => {
    directory = await mkdtemp(join(tmpdir(), "eval-generation-"));
    // every 3rd judge call returns junk: those scores are missing, the run goes on
    judgeServer = await startScriptedJudge((_, index) =>
      index % 3 === 2 ? { kind: "content", content: "no JSON here" } : { kind: "valid" },
    );
  });
  afterAll(async () => {
    await judgeServer.close();
    await rm(directory, { recursive: true, force: true });
  });

  it("scores every answer with and without the judge, keeps going past failures, and reports", async () => {
    const questions = parseQuestions(
      [
        JSON.stringify({
          id: "a",
          question: "What is a vector database?",
          author: "Formal Writer",
          reference: "It stores embeddings.",
        }),
        JSON.stringify({ question: "fail" }),
        JSON.stringify({ id: "c", question: "Why embeddings?", history: [{ role: "user", content: "hi" }] }),
      ].join("\n"),
      "questions.jsonl",
    );
    const judge = createOpenAiJudge({ url: judgeServer.url, model: "judge", timeoutMs: 5_000, retries: 0 });
    const progress: number[] = [];
    const results = await evaluateGeneration({
      questions,
      twin: fakeTwin,
      judge,
      judgeConcurrency: 2,
      voice: buildVoiceModel(VOICE_DOCUMENTS, { words: 40, ngrams: 60, temperature: 0.05 }),
      onProgress: ({ completed }) => progress.push(completed),
    });
    expect(results.map((result) => result.id)).toEqual(["a", "line-2", "c"]);
    expect(progress.at(-1)).toBe(3);
    const [first, failed, third] = results;
    expect(first?.traceId).toBe("trace-a");
    expect(first?.citationOverlap).toEqual({ value: 0.5, detail: "1/2 sentences supported" });
    expect(first?.voice.value).not.toBeNull();
    expect(first?.words).toBe(14);
    expect(failed?.error?.code).toBe("upstream_unavailable");
    expect(failed?.judge.faithfulness).toEqual({ value: null, reason: "no answer to judge" });
    expect(third?.voice).toEqual({
      value: null,
      reason: "no author (none in the question, none found by self-query, no source)",
    });
    expect(third?.judge.contextRecall).toEqual({ value: null, reason: "no reference answer for this question" });
    // 4 metrics for "a" + 3 for "c" (no reference) = 7 calls; the 3rd and 6th were junk
    expect(judgeServer.requests).toHaveLength(7);
    const judged = [first, third].flatMap((result) => Object.values(result?.judge ?? {}));
    expect(judged.filter((score) => score.value === null && score.reason.includes("not JSON"))).toHaveLength(2);
    expect(
      judgeServer.requests.find(
        (request) => request.schemaName === "answer_relevance" && request.messages[1]?.content.includes("user: hi"),
      ),
    ).toBeDefined();

    const summaries = summarize(results);
    const citation = summaries.find((summary) => summary.key === "citationOverlap");
    expect(citation).toMatchObject({ count: 2, missing: 1, mean: 0.5 });
    expect(citation?.perAuthor).toEqual([
      { author: "(no author)", count: 1, mean: 0.5 },
      { author: "Formal Writer", count: 1, mean: 0.5 },
    ]);
    const total = summaries.find((summary) => summary.key === "totalMs");
    expect(total).toMatchObject({ count: 2, missing: 1, mean: 16 });
    expect(total?.missingReasons).toEqual([{ reason: "no answer: upstream_unavailable", count: 1 }]);

    const run: GenerationRun = {
      questionsFile: "questions.jsonl",
      twin: fakeTwin.description,
      judge: { url: judgeServer.url, model: "judge", promptsVersion: judge.promptsVersion },
      voice: { corpus: "synthetic", method: "delta", authors: ["Casual Writer", "Formal Writer"] },
      startedAt: new Date(0).toISOString(),
      seconds: 1,
      results,
    };
    const table = formatGenerationTable(run);
    expect(table).toContain("faithfulness");
    expect(table).toContain("trace-a");
    expect(table).toContain("error upstream_unavailable: LLM down");
    const json = generationJson(run);
    expect(json.summary.find((summary) => summary.key === "voice")).not.toHaveProperty("values");
    expect(JSON.parse(JSON.stringify(json)).results).toHaveLength(3);

    const reportFile = join(directory, "report.md");
    const charts = await writeGenerationReport(run, reportFile, "llm-twin eval generation --questions q.jsonl");
    const markdown = await readFile(reportFile, "utf8");
    expect(markdown).toContain("| faithfulness |");
    expect(markdown).toContain("`trace-a`");
    expect(markdown).toContain("![citation overlap](report-charts/citationOverlap.svg)");
    expect(markdown).toContain("message is not JSON");
    const files = await readdir(join(directory, "report-charts"));
    expect(files).toContain("faithfulness.svg");
    expect(charts.length).toBe(files.length);
    const svg = await readFile(join(directory, "report-charts", "citationOverlap.svg"), "utf8");
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg).toContain("Formal Writer");
    expect(svg).toContain("0.50 (1)");
  });
});

describe("generation evaluation with an unreachable judge", () => {
  it("stops at the judge's first calls: the answer in flight is aborted, the run rejects with one error", async () => {
    const asked: string[] = [];
    const waitingTwin: Twin = {
      description: "twin whose second answer lasts until the run is stopped",
      async answer(question, signal) {
        asked.push(question.id);
        if (asked.length > 1)
          await new Promise<void>((resolve) => signal?.addEventListener("abort", () => resolve(), { once: true }));
        return fakeTwin.answer(question, signal);
      },
    };
    const port = await freePort();
    const judge = createOpenAiJudge({
      url: `http://127.0.0.1:${port}`,
      model: "m",
      timeoutMs: 5_000,
      retries: 2,
      stopWhenUnreachable: true,
    });
    const questions = parseQuestions(
      ["a", "b", "c", "d"].map((id) => JSON.stringify({ id, question: `question ${id}?` })).join("\n"),
      "questions.jsonl",
    );
    await expect(evaluateGeneration({ questions, twin: waitingTwin, judge })).rejects.toMatchObject({
      code: "upstream_unavailable",
      message: expect.stringContaining("--judge-url (LLM_TWIN_JUDGE_URL)"),
    });
    expect(asked).toEqual(["a", "b"]);
  });
});

describe("generation evaluation without a voice model", () => {
  it("gives the flag that turned it off as the reason", async () => {
    const questions = parseQuestions(JSON.stringify({ id: "a", question: "q?", author: "Formal Writer" }), "q.jsonl");
    const [result] = await evaluateGeneration({ questions, twin: fakeTwin });
    expect(result?.voice).toEqual({ value: null, reason: "no voice model (--no-voice-corpus)" });
  });
});

describe("questions file", () => {
  it("names the line of a mistake", () => {
    expect(() => parseQuestions('{"question": "ok"}\nnot json', "q.jsonl")).toThrow("q.jsonl line 2 is not JSON");
    expect(() => parseQuestions('{"author": "x"}', "q.jsonl")).toThrow(/q.jsonl line 1: question: /);
    expect(() => parseQuestions('{"question": "q", "history": [{"role": "bot", "content": ""}]}', "q.jsonl")).toThrow(
      /line 1: history.0.role/,
    );
    expect(() => parseQuestions("\n\n", "q.jsonl")).toThrow("q.jsonl has no questions");
  });
});

describe("citation overlap", () => {
  it("counts sentences whose content words are mostly in one source, ignoring short fragments", () => {
    expect(
      citationOverlap("Hi! Vector databases store embeddings quickly. Cats sleep all afternoon long.", [SOURCE_TEXT]),
    ).toEqual({
      value: 0.5,
      detail: "1/2 sentences supported",
    });
    expect(citationOverlap("Okay. Sure.", [SOURCE_TEXT]).value).toBeNull();
    expect(citationOverlap("Anything at all here.", [])).toEqual({ value: null, reason: "no context was retrieved" });
  });
});

describe("judge concurrency limiter", () => {
  it("never runs more tasks than allowed, and runs them all", async () => {
    const limit = createLimiter(2);
    let active = 0;
    let peak = 0;
    const done = await Promise.all(
      Array.from({ length: 7 }, (_, index) =>
        limit(async () => {
          active++;
          peak = Math.max(peak, active);
          await new Promise((resolve) => setImmediate(resolve));
          active--;
          return index;
        }),
      ),
    );
    expect(done).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(peak).toBe(2);
  });
});
