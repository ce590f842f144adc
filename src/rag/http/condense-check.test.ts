import { afterEach, describe, expect, it } from "vitest";
import { buildHarness, type Harness } from "../testing/app-harness.js";
import { MAXIME } from "../testing/fakes.js";

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.app.close();
  harness = undefined;
});

type Retrieved = { author: { id: string } | null; standaloneQuery: string; queries: string[] };
type Traced = {
  attributes: Record<string, unknown>;
  spans: { name: string; attributes: Record<string, unknown> }[];
};

const query = "What does he recommend before SFT?";
const aboutMaxime = [
  { role: "user", content: "Tell me about Maxime Labonne's fine-tuning articles" },
  { role: "assistant", content: "He wrote about SFT and preference alignment." },
];

async function retrieveWith(h: Harness, rewrite: string, path = "/retrieve") {
  h.llm.replies.length = 0;
  h.llm.replies.push({ match: /Follow-up question: What does he recommend/, text: rewrite });
  const response = await h.app.inject({ method: "POST", url: path, payload: { query, history: aboutMaxime } });
  expect(response.statusCode).toBe(200);
  const trace = await h.app.inject({ method: "GET", url: `/traces/${String(response.headers["x-trace-id"])}` });
  return { body: response.json<Retrieved>(), trace: trace.json<Traced>() };
}

describe("the condensed question's sanity check, through the service", () => {
  it("searches a sensible rewrite", async () => {
    harness = await buildHarness();
    const { body, trace } = await retrieveWith(harness, "What does Maxime Labonne recommend before SFT?");
    expect(body.standaloneQuery).toBe("What does Maxime Labonne recommend before SFT?");
    expect(body.queries[0]).toBe(body.standaloneQuery);
    expect(body.author?.id).toBe(MAXIME.id);
    expect(trace.attributes).toMatchObject({ query, standaloneQuery: body.standaloneQuery, condense: "llm" });
    expect(trace.spans.find((span) => span.name === "condense")?.attributes).toMatchObject({
      outcome: "llm",
      wordShare: 1,
      overlap: 1,
    });
  });

  it("searches the raw question for a gibberish rewrite, the author still carried over; the trace shows both", async () => {
    harness = await buildHarness();
    const gibberish =
      "\uFFFD\uFFFD her  these6\uFFFD i8h\uFFFD when\uFFFD\uFFFD sh thei yo\u00048\uFFFDY suchjH\uFFFDY";
    const { body, trace } = await retrieveWith(harness, gibberish);
    expect(body.standaloneQuery).toBe(query);
    expect(body.queries[0]).toBe(query);
    expect(body.author?.id).toBe(MAXIME.id);
    expect(trace.attributes).toMatchObject({ query, standaloneQuery: query, condense: "gibberish" });
    const span = trace.spans.find((item) => item.name === "condense")?.attributes;
    expect(span).toMatchObject({ question: query, standaloneQuestion: query, outcome: "gibberish" });
    expect(span?.rewrite).toContain("suchjH");
    expect(span?.wordShare).toBeLessThan(0.8);
  });

  it("searches the raw question for a rewrite about something else, on /rag too", async () => {
    harness = await buildHarness();
    const { body, trace } = await retrieveWith(harness, "What is the best pizza recipe in Naples?");
    expect(body.standaloneQuery).toBe(query);
    expect(body.author?.id).toBe(MAXIME.id);
    expect(trace.attributes).toMatchObject({ condense: "unrelated" });
    expect(trace.spans.find((span) => span.name === "condense")?.attributes).toMatchObject({
      outcome: "unrelated",
      rewrite: "What is the best pizza recipe in Naples?",
      overlap: 0,
    });
    const rag = await retrieveWith(harness, "What is the best pizza recipe in Naples?", "/rag");
    expect(rag.trace.attributes).toMatchObject({ query, standaloneQuery: query, condense: "unrelated" });
  });

  it("takes its thresholds from the configuration (0 turns the checks off)", async () => {
    harness = await buildHarness({ config: { condenseMinWordShare: 0, condenseMinOverlap: 0 } });
    const { body, trace } = await retrieveWith(harness, "What is the best pizza recipe in Naples?");
    expect(body.standaloneQuery).toBe("What is the best pizza recipe in Naples?");
    expect(trace.attributes).toMatchObject({ condense: "llm" });
  });
});
