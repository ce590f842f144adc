import { afterEach, describe, expect, it } from "vitest";
import { CONDENSE_PROMPT_VERSION } from "../../preprocessing/index.js";
import { buildHarness, type Harness, parseSse } from "../testing/app-harness.js";
import { MAXIME, PAUL } from "../testing/fakes.js";
import type { RagResponse } from "../types.js";

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.app.close();
  harness = undefined;
});

async function setup(options: Parameters<typeof buildHarness>[0] = {}): Promise<Harness> {
  harness = await buildHarness(options);
  return harness;
}

const post = (h: Harness, url: string, payload: unknown) =>
  h.app.inject({ method: "POST", url, payload: payload as object });

type Retrieved = {
  sources: { author: { id: string } }[];
  author: { id: string } | null;
  standaloneQuery: string;
  queries: string[];
};
type ErrorBody = { error: { code: string; message: string } };

const aboutMaxime = [
  { role: "user", content: "Tell me about Maxime Labonne's fine-tuning articles" },
  { role: "assistant", content: "He wrote about SFT and preference alignment." },
];

describe("history on /rag and /retrieve", () => {
  it("refuses badly shaped turns and over-limit history with 422, naming the flag", async () => {
    const h = await setup({ config: { maxHistoryTurns: 2, maxHistoryChars: 100 } });
    for (const history of [
      "not a list",
      [{ role: "system", content: "x" }],
      [{ role: "user" }],
      [{ role: "user", content: "" }],
      [{ role: "user", content: "x", extra: 1 }],
    ]) {
      const response = await post(h, "/retrieve", { query: "RAG", history });
      expect(response.statusCode, JSON.stringify(history)).toBe(422);
      expect(response.json<ErrorBody>().error.code).toBe("validation_error");
    }
    const tooMany = await post(h, "/rag", { query: "RAG", history: [...aboutMaxime, ...aboutMaxime] });
    expect(tooMany.statusCode).toBe(422);
    expect(tooMany.json<ErrorBody>().error.code).toBe("validation_error");
    expect(tooMany.json<ErrorBody>().error.message).toContain("--max-history-turns");
    const tooLong = await post(h, "/retrieve", { query: "RAG", history: [{ role: "user", content: "x".repeat(101) }] });
    expect(tooLong.statusCode).toBe(422);
    expect(tooLong.json<ErrorBody>().error.code).toBe("input_too_long");
    expect(tooLong.json<ErrorBody>().error.message).toContain("LLM_TWIN_MAX_HISTORY_CHARS");
  });

  it("publishes the history limits on the public GET /info (the chat page keeps to them)", async () => {
    const h = await setup({ config: { maxHistoryTurns: 6, maxHistoryChars: 900, maxQueryChars: 300 } });
    const info = await h.app.inject({ method: "GET", url: "/info" });
    expect(info.statusCode).toBe(200);
    expect(info.json<{ limits: unknown }>().limits).toEqual({
      maxQueryChars: 300,
      maxHistoryTurns: 6,
      maxHistoryChars: 900,
    });
  });

  it("carries the most recent named author over to a follow-up that names nobody", async () => {
    const h = await setup();
    const without = await post(h, "/retrieve", { query: "What does he recommend before SFT?", k: 5 });
    expect(without.json<Retrieved>().author).toBeNull();

    const history = [
      { role: "user", content: "What did Paul Iusztin write about RAG?" },
      { role: "assistant", content: "Maxime Labonne is mentioned by the assistant only." },
      ...aboutMaxime,
    ];
    const followUp = await post(h, "/retrieve", { query: "What does he recommend before SFT?", k: 5, history });
    expect(followUp.statusCode).toBe(200);
    const body = followUp.json<Retrieved>();
    expect(body.author?.id).toBe(MAXIME.id);
    expect(body.sources.every((source) => source.author.id === MAXIME.id)).toBe(true);

    // The current question naming someone wins; an explicit author overrides both.
    const named = await post(h, "/retrieve", { query: "And Paul Iusztin on vector databases?", history });
    expect(named.json<Retrieved>().author?.id).toBe(PAUL.id);
    const explicit = await post(h, "/retrieve", { query: "What does he say?", author: PAUL.id, history });
    expect(explicit.json<Retrieved>().author?.id).toBe(PAUL.id);
    // Assistant turns do not name the author; selfQuery off turns carry-over off.
    const assistantOnly = await post(h, "/retrieve", { query: "What does he say?", history: [history[1]] });
    expect(assistantOnly.json<Retrieved>().author).toBeNull();
    const off = await post(h, "/retrieve", { query: "What does he say?", selfQuery: "off", history });
    expect(off.json<Retrieved>().author).toBeNull();
  });

  it("sends the recent turns as chat messages and says how many were used", async () => {
    const h = await setup();
    const response = await post(h, "/rag", { query: "Make it shorter", history: aboutMaxime });
    expect(response.statusCode).toBe(200);
    expect(response.json<RagResponse>().historyTurnsUsed).toBe(2);
    const prompt = h.llm.requests.at(-1);
    const messages = prompt !== undefined && "messages" in prompt ? prompt.messages : [];
    expect(messages.map((message) => message.role)).toEqual(["system", "user", "assistant", "user"]);
    expect(messages[1]?.content).toBe(aboutMaxime[0]?.content);
    expect(messages.at(-1)?.content).toContain("Make it shorter");

    const none = await post(h, "/rag", { query: "Make it shorter" });
    expect(none.json<RagResponse>().historyTurnsUsed).toBe(0);

    const streamed = await post(h, "/rag", { query: "Make it shorter", history: aboutMaxime, stream: true });
    const done = parseSse(streamed.body).find((event) => event.event === "done");
    expect(done?.data).toMatchObject({ historyTurnsUsed: 2 });
  });

  it("drops the oldest turns first when the history budget is small", async () => {
    // 8 tokens of overhead per turn plus ~4 characters a token: room for the two newest turns only.
    const h = await setup({ config: { historyTokenBudget: 40 } });
    const history = [
      { role: "user", content: "oldest turn about Maxime Labonne" },
      { role: "assistant", content: "a".repeat(40) },
      { role: "user", content: "b".repeat(40) },
    ];
    const response = await post(h, "/rag", { query: "Shorter", history });
    expect(response.json<RagResponse>().historyTurnsUsed).toBe(2);
    const prompt = h.llm.requests.at(-1);
    const messages = prompt !== undefined && "messages" in prompt ? prompt.messages : [];
    expect(messages.map((message) => message.content).slice(1, 3)).toEqual([history[1]?.content, history[2]?.content]);
  });

  it("condenses a follow-up into a standalone question for retrieval, falling back to the raw question", async () => {
    const h = await setup();
    const query = "What does he recommend before SFT?";
    h.llm.replies.push({
      match: /Follow-up question: What does he recommend/,
      text: "Standalone question: What does Paul Iusztin recommend before SFT?\nextra line",
    });
    const condensed = await post(h, "/retrieve", { query, history: aboutMaxime });
    const body = condensed.json<Retrieved>();
    expect(body.standaloneQuery).toBe("What does Paul Iusztin recommend before SFT?");
    expect(body.queries[0]).toBe(body.standaloneQuery);
    // The rewrite names Paul: self-query on it wins over the carried-over author.
    expect(body.author?.id).toBe(PAUL.id);
    const trace = await h.app.inject({ method: "GET", url: `/traces/${String(condensed.headers["x-trace-id"])}` });
    const traced = trace.json<{
      attributes: Record<string, unknown>;
      spans: { name: string; attributes: Record<string, unknown> }[];
    }>();
    expect(traced.attributes).toMatchObject({ query, standaloneQuery: body.standaloneQuery, condense: "llm" });
    expect(traced.spans.find((span) => span.name === "condense")?.attributes).toMatchObject({
      question: query,
      outcome: "llm",
      templateVersion: CONDENSE_PROMPT_VERSION,
    });

    // off: no LLM call, the raw question is searched and the author carries over.
    const calls = h.llm.requests.length;
    const off = (await post(h, "/retrieve", { query, history: aboutMaxime, condense: "off" })).json<Retrieved>();
    expect(h.llm.requests.length).toBe(calls);
    expect(off.standaloneQuery).toBe(query);
    expect(off.author?.id).toBe(MAXIME.id);

    // Too long, empty or failed: the raw question.
    h.llm.replies.length = 0;
    h.llm.replies.push({ match: /Follow-up question/, text: "x".repeat(5000) });
    expect((await post(h, "/retrieve", { query, history: aboutMaxime })).json<Retrieved>().standaloneQuery).toBe(query);
    h.llm.replies.length = 0;
    expect((await post(h, "/retrieve", { query, history: aboutMaxime })).json<Retrieved>().standaloneQuery).toBe(query);
    h.llm.failWith = new Error("llm down");
    const failed = await post(h, "/retrieve", { query, history: aboutMaxime });
    expect(failed.statusCode).toBe(200);
    expect(failed.json<Retrieved>().standaloneQuery).toBe(query);
    expect(failed.json<Retrieved>().author?.id).toBe(MAXIME.id);
  });
});
