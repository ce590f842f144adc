/** The judge client against a real loopback HTTP server speaking the OpenAI chat API (scripted and malformed replies). */
import { afterEach, describe, expect, it } from "vitest";
import { JUDGE_PROMPTS_VERSION, type JudgeInput } from "../../preprocessing/index.js";
import { freePort } from "../../testing/free-port.js";
import { type ScriptedJudge, type ScriptedReply, startScriptedJudge } from "../../testing/scripted-judge.js";
import { averagePrecision, chatCompletionsUrl, createOpenAiJudge } from "./judge.js";

const INPUT: JudgeInput = {
  question: "How do I fine-tune Llama 3 with Unsloth?",
  answer: "You load the model in 4-bit. Then you train LoRA adapters.",
  contexts: ["Unsloth loads models in 4-bit.", "Unrelated text about Kafka.", "LoRA adapters are trained."],
  reference: "Load the model in 4-bit with Unsloth and train LoRA adapters on it.",
};

let judgeServer: ScriptedJudge | undefined;
afterEach(async () => {
  await judgeServer?.close();
  judgeServer = undefined;
});

async function judgeWith(
  script?: (request: { schemaName: string }, index: number) => ScriptedReply,
  retries = 0,
  timeoutMs = 5_000,
  stopWhenUnreachable = false,
) {
  judgeServer = await startScriptedJudge(script);
  return createOpenAiJudge({
    url: judgeServer.url,
    model: "judge-model",
    apiKey: "secret",
    timeoutMs,
    retries,
    retryDelayMs: 1,
    stopWhenUnreachable,
  });
}

describe("judge client", () => {
  it("sends JSON-schema-constrained requests and turns well-formed replies into the four metrics", async () => {
    const judge = await judgeWith();
    expect(judge.promptsVersion).toBe(JUDGE_PROMPTS_VERSION);
    expect(await judge.score("faithfulness", INPUT)).toEqual({ value: 0.75, detail: "3/4 claims supported" });
    expect(await judge.score("answerRelevance", INPUT)).toEqual({ value: 0.75, detail: "scripted judge" });
    // passages 1 and 3 useful: (1/1 + 2/3) / 2
    const precision = await judge.score("contextPrecision", INPUT);
    expect(precision.value).toBeCloseTo(5 / 6, 9);
    expect(await judge.score("contextRecall", INPUT)).toEqual({ value: 0.5, detail: "1/2 statements attributed" });
    const requests = judgeServer?.requests ?? [];
    expect(requests.map((request) => request.schemaName)).toEqual([
      "faithfulness",
      "answer_relevance",
      "context_precision",
      "context_recall",
    ]);
    for (const request of requests) {
      expect(request.model).toBe("judge-model");
      expect(request.authorization).toBe("Bearer secret");
      expect(request.responseFormat).toMatchObject({
        type: "json_schema",
        json_schema: { strict: true, schema: { type: "object" } },
      });
      expect(request.messages[0]?.role).toBe("system");
    }
    expect(requests[0]?.messages[1]?.content).toContain("[2] Unrelated text about Kafka.");
  });

  it("marks a score missing with the reason when the reply is junk, and never throws", async () => {
    const replies: ScriptedReply[] = [
      { kind: "content", content: "Sure! The answer is faithful." },
      { kind: "content", content: '{"score": 9, "reason": "too high"}' },
      { kind: "content", content: '{"items": [{"passage": "1", "useful": true}]}' },
      { kind: "http", status: 200, body: "<html>not json</html>" },
      { kind: "http", status: 200, body: '{"choices": []}' },
    ];
    const judge = await judgeWith((_, index) => replies[index] ?? { kind: "valid" });
    const faithfulness = await judge.score("faithfulness", INPUT);
    expect(faithfulness).toMatchObject({ value: null, reason: expect.stringContaining("message is not JSON") });
    const relevance = await judge.score("answerRelevance", INPUT);
    expect(relevance).toMatchObject({ value: null, reason: expect.stringContaining("does not follow the schema") });
    const precision = await judge.score("contextPrecision", INPUT);
    expect(precision).toEqual({ value: null, reason: "the judge rated 1 passages, 3 were given" });
    expect(await judge.score("contextRecall", INPUT)).toEqual({
      value: null,
      reason: "the judge's HTTP body is not JSON",
    });
    expect(await judge.score("contextRecall", INPUT)).toEqual({
      value: null,
      reason: "the judge's reply has no choices[0].message.content",
    });
    // junk is not retried: one request per call
    expect(judgeServer?.requests).toHaveLength(5);
  });

  it("accepts a reply wrapped in a Markdown code fence", async () => {
    const judge = await judgeWith(() => ({
      kind: "content",
      content: '```json\n{"score": 5, "reason": "direct"}\n```',
    }));
    expect(await judge.score("answerRelevance", INPUT)).toEqual({ value: 1, detail: "direct" });
  });

  it("retries server errors, then gives up with the reason; client errors are not retried", async () => {
    const judge = await judgeWith(
      (request) =>
        request.schemaName === "faithfulness"
          ? { kind: "http", status: 503, body: '{"error":"overloaded"}' }
          : { kind: "http", status: 400, body: '{"error":"bad model"}' },
      2,
    );
    const failed = await judge.score("faithfulness", INPUT);
    expect(failed.value).toBeNull();
    expect(failed).toMatchObject({ reason: expect.stringMatching(/HTTP 503.*after 3 attempts/) });
    expect(judgeServer?.requests).toHaveLength(3);
    const rejected = await judge.score("answerRelevance", INPUT);
    expect(rejected).toMatchObject({ value: null, reason: expect.stringContaining("HTTP 400") });
    expect(judgeServer?.requests).toHaveLength(4);
  });

  it("says to set --judge-model when the judge does not serve the model asked for", async () => {
    const body = '{"error":{"code":"unknown_adapter","message":"Unknown adapter \'judge\' in `model`"}}';
    const judge = await judgeWith(() => ({ kind: "http", status: 422, body }), 0);
    const scored = await judge.score("answerRelevance", INPUT);
    expect(scored).toMatchObject({ value: null, reason: expect.stringMatching(/HTTP 422.*set --judge-model/) });
  });

  it("recovers when a retry succeeds", async () => {
    const judge = await judgeWith(
      (_, index) => (index === 0 ? { kind: "http", status: 500, body: "" } : { kind: "valid" }),
      1,
    );
    expect((await judge.score("answerRelevance", INPUT)).value).toBe(0.75);
  });

  it("times out a judge that never answers", async () => {
    const judge = await judgeWith(() => ({ kind: "hang" }), 0, 300);
    expect(await judge.score("faithfulness", INPUT)).toEqual({
      value: null,
      reason: "the judge did not answer within 300 ms",
    });
  });

  it("stops the run when its first call cannot reach the judge; skips metrics whose inputs are absent without calling it", async () => {
    const port = await freePort();
    const judge = createOpenAiJudge({
      url: `http://127.0.0.1:${port}`,
      model: "m",
      timeoutMs: 2_000,
      retries: 2,
      stopWhenUnreachable: true,
    });
    await expect(judge.score("answerRelevance", INPUT)).rejects.toMatchObject({
      code: "upstream_unavailable",
      message: `cannot reach the judge at http://127.0.0.1:${port}/v1/chat/completions (connection refused): start it or point --judge-url (LLM_TWIN_JUDGE_URL) at it`,
    });
    const { reference: _reference, ...withoutReference } = INPUT;
    expect(await judge.score("contextRecall", withoutReference)).toEqual({
      value: null,
      reason: "no reference answer for this question",
    });
    expect(await judge.score("contextPrecision", { ...INPUT, contexts: [] })).toEqual({
      value: null,
      reason: "no context was retrieved",
    });
    expect(await judge.score("faithfulness", { ...INPUT, answer: " " })).toEqual({
      value: null,
      reason: "the answer is empty",
    });
  });

  it("stops on a refused key (401) before any success; once a call succeeded, a lost judge is a missing score", async () => {
    const refused = await judgeWith(() => ({ kind: "http", status: 401, body: '{"error":"bad key"}' }), 2, 5_000, true);
    await expect(refused.score("answerRelevance", INPUT)).rejects.toMatchObject({
      code: "unauthorized",
      message: expect.stringMatching(
        /^the judge at http:\/\/127\.0\.0\.1:\d+\/v1\/chat\/completions refused the credentials \(HTTP 401\): give the right key with --judge-api-key \(LLM_TWIN_JUDGE_API_KEY\), or check --judge-url \(LLM_TWIN_JUDGE_URL\)$/,
      ),
    });
    expect(judgeServer?.requests).toHaveLength(1);
    await judgeServer?.close();
    const judge = await judgeWith(() => ({ kind: "valid" }), 0, 5_000, true);
    expect((await judge.score("answerRelevance", INPUT)).value).not.toBeNull();
    await judgeServer?.close();
    judgeServer = undefined;
    expect(await judge.score("answerRelevance", INPUT)).toMatchObject({
      value: null,
      reason: expect.stringContaining("cannot reach the judge"),
    });
  });

  it("without stopWhenUnreachable (the online evaluator), an unreachable judge is a missing score", async () => {
    const port = await freePort();
    const judge = createOpenAiJudge({ url: `http://127.0.0.1:${port}`, model: "m", timeoutMs: 2_000, retries: 0 });
    expect(await judge.score("answerRelevance", INPUT)).toMatchObject({
      value: null,
      reason: expect.stringContaining("cannot reach the judge"),
    });
  });

  it("builds the chat completions URL from a base URL", () => {
    expect(chatCompletionsUrl("http://localhost:8080")).toBe("http://localhost:8080/v1/chat/completions");
    expect(chatCompletionsUrl("https://api.example.com/v1/")).toBe("https://api.example.com/v1/chat/completions");
    expect(chatCompletionsUrl("http://h/v1/chat/completions")).toBe("http://h/v1/chat/completions");
    expect(averagePrecision([false, false])).toBe(0);
    expect(averagePrecision([true, false, true])).toBeCloseTo(5 / 6, 9);
  });
});
