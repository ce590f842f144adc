/**
 * The RAG service in one process, end to end: the real LLM Twin corpus in LanceDB (static
 * embedder), a tiny generated GGUF model on in-process llama.cpp, the real HTTP server.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createEmbedder } from "../../src/embedding/index.js";
import { tinyModelPath } from "../../src/gguf/index.js";
import { createLlamaCppLanguageModel } from "../../src/llm/llama-cpp/index.js";
import { inProcessPromptLimit, type RunningRagService, runRagService } from "../../src/rag/service/run.js";
import { defaultRagServiceSettings } from "../../src/rag/service/settings.js";
import type { RagResponse } from "../../src/rag/types.js";
import { openVectorStore } from "../../src/vector-store/index.js";
import { ARTICLES, type IngestedCorpus, ingestCorpus, parseSseStrict, spyLanguageModel } from "./support.js";

const PAUL = "Paul Iusztin";
const MAXIME = "Maxime Labonne";

describe.skipIf(ARTICLES === undefined)("RAG service, one process (tiny GGUF + real corpus)", () => {
  let corpus: IngestedCorpus;
  let service: RunningRagService;
  let spy: ReturnType<typeof spyLanguageModel>;

  beforeAll(async () => {
    corpus = await ingestCorpus(ARTICLES as string);
    const llm = await createLlamaCppLanguageModel({ modelPath: await tinyModelPath("chat"), threads: 1, parallel: 2 });
    spy = spyLanguageModel(llm, { tokenDelayMs: 2 });
    service = await runRagService({
      settings: defaultRagServiceSettings({ port: 0, store: corpus.storeUri, logLevel: "silent", rateLimit: 0 }),
      store: corpus.store,
      embedder: corpus.embedder,
      llm: spy.model,
      ...inProcessPromptLimit(llm.engine),
      disposeResources: () => llm[Symbol.asyncDispose](),
    });
  });

  afterAll(async () => {
    await service?.close();
    await corpus?.cleanup();
  });

  const rag = (body: Record<string, unknown>, headers: Record<string, string> = {}) =>
    fetch(`${service.url}/rag`, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: JSON.stringify(body),
    });

  it("answers /rag with sources from the corpus, usage and timings", async () => {
    const response = await rag({ query: "Draft a LinkedIn post about RAG systems.", maxNewTokens: 16 });
    expect(response.status).toBe(200);
    const body = (await response.json()) as RagResponse;
    expect(typeof body.answer).toBe("string");
    // Only the sources that reached the prompt are listed: the tiny model's byte-level tokenizer
    // makes articles long in tokens, so the context budget holds fewer than the 3 retrieved.
    expect(body.sources.length).toBeGreaterThanOrEqual(1);
    expect(body.sources.length).toBeLessThanOrEqual(3);
    expect(new Set(body.sources.map((source) => source.id)).size).toBe(body.sources.length);
    for (const source of body.sources) {
      expect(source.text.length).toBeGreaterThan(0);
      expect([PAUL, MAXIME]).toContain(source.author.fullName);
    }
    expect(body.usage.promptTokens).toBeGreaterThan(0);
    expect(body.usage.completionTokens).toBeGreaterThan(0);
    expect(body.usage.completionTokens).toBeLessThanOrEqual(16);
    expect(body.timings.generationMs).toBeGreaterThan(0);
    expect(body.timings.totalMs).toBeGreaterThanOrEqual(body.timings.generationMs);
  });

  it("streams SSE: sources first, then tokens, then done", async () => {
    const response = await rag({ query: "Write about LLM fine-tuning", stream: true, maxNewTokens: 12 });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toContain("text/event-stream");
    const events = parseSseStrict(await response.text());
    expect(events[0]?.event).toBe("sources");
    expect(events.at(-1)?.event).toBe("done");
    const middle = events.slice(1, -1);
    expect(middle.every((event) => event.event === "token")).toBe(true);
    const done = events.at(-1)?.data as { answer: string; usage: { completionTokens: number } };
    expect(middle.map((event) => event.data.text).join("")).toBe(done.answer);
    expect(done.usage.completionTokens).toBeGreaterThan(0);
  });

  it.each([
    ["My name is Paul Iusztin. Draft a LinkedIn post about RAG systems.", PAUL],
    ["Write a short article about fine-tuning LLMs in the style of Maxime Labonne", MAXIME],
  ])("honours the author named in the query: %s", async (query, author) => {
    const response = await fetch(`${service.url}/retrieve`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ query, k: 10, expandQueries: 2 }),
    });
    expect(response.status).toBe(200);
    const body = (await response.json()) as RagResponse;
    expect(body.sources.length).toBeGreaterThan(0);
    expect(body.sources.every((source) => source.author.fullName === author)).toBe(true);
  });

  it("honours the author given as an option, in /rag too", async () => {
    const response = await rag({ query: "Draft a post about RAG systems", author: MAXIME, k: 8, maxNewTokens: 4 });
    expect(response.status).toBe(200);
    const body = (await response.json()) as RagResponse;
    expect(body.sources.length).toBeGreaterThan(0);
    expect(body.sources.every((source) => source.author.fullName === MAXIME)).toBe(true);
  });

  it("asks the tiny LLM under the author grammar in llm self-query mode, accepting only known authors", async () => {
    const response = await fetch(`${service.url}/retrieve`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ query: "Draft a post about vector databases", selfQuery: "llm", expandQueries: 1, k: 5 }),
    });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { sources: RagResponse["sources"]; author: { fullName: string } | null };
    const trace = (await (await fetch(`${service.url}/traces/${response.headers.get("x-trace-id")}`)).json()) as {
      spans: { name: string; attributes: Record<string, unknown> }[];
    };
    const selfQuery = trace.spans.find((span) => span.name === "self-query")?.attributes;
    expect(["llm", "none"]).toContain(selfQuery?.source);
    if (body.author === null) {
      expect(selfQuery?.authorId).toBeNull();
    } else {
      expect([PAUL, MAXIME]).toContain(body.author.fullName);
      expect(body.sources.every((source) => source.author.fullName === body.author?.fullName)).toBe(true);
    }
  });

  it("cancels the generation when the client disconnects", async () => {
    const before = spy.streams.length;
    const controller = new AbortController();
    const response = await rag({ query: "Write a long article about RAG", stream: true, maxNewTokens: 900 }, {});
    const reader = response.body?.getReader();
    const decoder = new TextDecoder();
    let received = "";
    while (!received.includes("event: token")) {
      const chunk = await reader?.read();
      if (chunk === undefined || chunk.done) break;
      received += decoder.decode(chunk.value);
    }
    expect(received).toContain("event: token");
    await reader?.cancel();
    controller.abort();
    const stream = spy.streams[before];
    await expect.poll(() => stream?.signal?.aborted, { timeout: 5000 }).toBe(true);
    await expect.poll(() => stream?.ended, { timeout: 5000 }).not.toBe("running");
    expect(stream?.tokens).toBeLessThan(900);
  });

  it("rejects bad input with a code and a message", async () => {
    const response = await rag({ query: "", k: 3 });
    expect(response.status).toBe(422);
    const body = (await response.json()) as { error: { code: string; message: string; requestId: string } };
    expect(body.error.code).toBe("validation_error");
    expect(body.error.requestId).toBe(response.headers.get("x-request-id"));
  });

  it("is ready, and lists the traces of its requests", async () => {
    expect((await fetch(`${service.url}/ready`)).status).toBe(200);
    const traces = (await (await fetch(`${service.url}/traces?limit=3`)).json()) as {
      traces: { name: string; spans: { name: string }[] }[];
    };
    expect(traces.traces.length).toBeGreaterThan(0);
    expect(traces.traces.some((trace) => trace.spans.some((span) => span.name === "generation"))).toBe(true);
  });

  it("refuses to start on a fingerprint mismatch, saying what differs", async () => {
    const other = await createEmbedder("static", { maxInputTokens: 128 });
    const store = await openVectorStore(corpus.storeUri);
    const attempt = runRagService({
      settings: defaultRagServiceSettings({ port: 0, store: corpus.storeUri, logLevel: "silent" }),
      store,
      embedder: other,
      llm: spy.model,
      disposeResources: async () => {
        await store[Symbol.asyncDispose]();
      },
    });
    await expect(attempt).rejects.toMatchObject({
      code: "fingerprint_mismatch",
      message: expect.stringContaining("embedder.maxInputTokens: 512 → 128"),
    });
  });
});
