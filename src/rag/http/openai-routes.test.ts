import type { AddressInfo } from "node:net";
import OpenAI from "openai";
import { afterEach, describe, expect, it } from "vitest";
import { buildHarness, type Harness } from "../testing/app-harness.js";
import { MAXIME, PAUL } from "../testing/fakes.js";
import type { RagSource } from "../types.js";
import { createStopFilter } from "./stop-filter.js";

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.app.close();
  harness = undefined;
});

/** A listening RAG app (fakes behind it) and an official OpenAI client pointed at it. */
async function setup(options: Parameters<typeof buildHarness>[0] = {}): Promise<{ h: Harness; twin: OpenAI }> {
  const h = await buildHarness(options);
  harness = h;
  await h.app.listen({ port: 0, host: "127.0.0.1" });
  const { port } = h.app.server.address() as AddressInfo;
  const twin = new OpenAI({ baseURL: `http://127.0.0.1:${port}/v1`, apiKey: "key-1", maxRetries: 0 });
  return { h, twin };
}

type WithSources = { sources?: RagSource[] };

describe("OpenAI-compatible twin endpoint", () => {
  it("lists twin and twin:<author-id> per author", async () => {
    const { twin } = await setup();
    const ids: string[] = [];
    for await (const model of twin.models.list()) ids.push(model.id);
    expect(ids[0]).toBe("twin");
    expect(ids).toEqual(expect.arrayContaining([`twin:${PAUL.id}`, `twin:${MAXIME.id}`]));
  });

  it("retrieves one model (models.retrieve), 404 model_not_found for another", async () => {
    const { twin } = await setup();
    expect(await twin.models.retrieve(`twin:${PAUL.id}`)).toMatchObject({ id: `twin:${PAUL.id}`, object: "model" });
    await expect(twin.models.retrieve("gpt-4")).rejects.toMatchObject({
      status: 404,
      message: expect.stringContaining("GET /v1/models"),
    });
  });

  it("answers a chat completion with usage and sources; earlier messages are the history", async () => {
    const { h, twin } = await setup();
    const completion = await twin.chat.completions.create({
      model: `twin:${MAXIME.id}`,
      messages: [
        { role: "system", content: "ignored: the twin has its own system prompt" },
        { role: "user", content: "Tell me about fine-tuning" },
        { role: "assistant", content: "Sure." },
        { role: "user", content: "What does he recommend before SFT?" },
      ],
      max_tokens: 20,
      temperature: 0.5,
      user: "writer-1",
    });
    expect(completion.object).toBe("chat.completion");
    expect(completion.choices[0]?.message).toMatchObject({ role: "assistant", content: "Hello from the twin." });
    expect(completion.choices[0]?.finish_reason).toBe("stop");
    expect(completion.usage).toEqual({
      prompt_tokens: expect.any(Number),
      completion_tokens: 5,
      total_tokens: (completion.usage?.prompt_tokens ?? 0) + 5,
    });
    const sources = (completion as unknown as WithSources).sources ?? [];
    expect(sources.length).toBeGreaterThan(0);
    expect(sources.every((source) => source.author.id === MAXIME.id)).toBe(true);
    const generation = h.llm.requests.at(-1);
    const messages = generation !== undefined && "messages" in generation ? generation.messages : [];
    expect(messages.map((message) => message.role)).toEqual(["system", "user", "assistant", "user"]);
    expect(messages[0]?.content).not.toContain("ignored");
    expect(generation).toMatchObject({ maxNewTokens: 20, temperature: 0.5 });
  });

  it("streams OpenAI chunks, sources on the first, usage on the last, then [DONE]", async () => {
    const { h, twin } = await setup();
    const stream = await twin.chat.completions.create({
      model: "twin",
      messages: [{ role: "user", content: "How do RAG pipelines use vector databases?" }],
      stream: true,
      stop: [" twin"],
    });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect((chunks[0] as unknown as WithSources).sources?.length).toBeGreaterThan(0);
    expect(chunks[0]?.choices[0]?.delta.role).toBe("assistant");
    expect(chunks.map((chunk) => chunk.choices[0]?.delta.content ?? "").join("")).toBe("Hello from the");
    expect(chunks.at(-1)?.choices[0]?.finish_reason).toBe("stop");
    expect(chunks.at(-1)?.usage?.completion_tokens).toBe(5);

    // The raw stream ends with data: [DONE].
    const raw = await h.app.inject({
      method: "POST",
      url: "/v1/chat/completions",
      payload: { model: "twin", messages: [{ role: "user", content: "RAG" }], stream: true },
    });
    expect(raw.body.trimEnd().endsWith("data: [DONE]")).toBe(true);
  });

  it("refuses an unknown model or a conversation not ending with a user message, with one clear error", async () => {
    const { twin } = await setup();
    await expect(
      twin.chat.completions.create({ model: "gpt-4", messages: [{ role: "user", content: "hi" }] }),
    ).rejects.toMatchObject({ status: 422, message: expect.stringContaining("GET /v1/models") });
    await expect(
      twin.chat.completions.create({ model: "twin", messages: [{ role: "assistant", content: "hi" }] }),
    ).rejects.toMatchObject({ status: 422 });
    await expect(
      twin.chat.completions.create({ model: "twin:nobody", messages: [{ role: "user", content: "hi" }] }),
    ).rejects.toMatchObject({ status: 422, message: expect.stringContaining("unknown author") });
  });

  it("refuses what the twin cannot honour (n > 1, tools, a JSON response_format, logprobs) instead of ignoring it", async () => {
    const { twin } = await setup();
    const messages = [{ role: "user" as const, content: "hi" }];
    const tools = [{ type: "function" as const, function: { name: "a" } }];
    for (const [extra, field] of [
      [{ n: 2 }, "n"],
      [{ tools }, "tools"],
      [{ response_format: { type: "json_object" as const } }, "response_format"],
      [{ logprobs: true }, "logprobs"],
    ] as const) {
      await expect(twin.chat.completions.create({ model: "twin", messages, ...extra }), field).rejects.toMatchObject({
        status: 422,
        message: expect.stringMatching(new RegExp(`'${field}'.*not supported by the twin.*serve-llm`)),
      });
    }
    // Their neutral values are fine (clients send them).
    const plain = await twin.chat.completions.create({
      model: "twin",
      messages,
      n: 1,
      tools: [],
      response_format: { type: "text" },
      logprobs: false,
    });
    expect(plain.choices).toHaveLength(1);
  });

  it("applies API keys as on /rag", async () => {
    const { twin } = await setup({ http: { apiKeys: ["key-2"] } });
    await expect(
      twin.chat.completions.create({ model: "twin", messages: [{ role: "user", content: "hi" }] }),
    ).rejects.toMatchObject({
      status: 401,
    });
    await expect(twin.models.list()).rejects.toMatchObject({ status: 401 });
  });
});

describe("OpenAI endpoint protection", () => {
  it("applies rate limits as on /rag", async () => {
    const { twin } = await setup({ http: { rateLimit: { max: 1, timeWindowMs: 60_000 } } });
    const messages = [{ role: "user" as const, content: "hi" }];
    await twin.chat.completions.create({ model: "twin", messages });
    await expect(twin.chat.completions.create({ model: "twin", messages })).rejects.toMatchObject({ status: 429 });
  });
});

describe("createStopFilter", () => {
  it("holds back a possible stop prefix across tokens and drops everything from the stop on", () => {
    const filter = createStopFilter(["END"]);
    const sent = [filter.push("abc E"), filter.push("N"), filter.push("Dxyz"), filter.push("more")];
    expect(sent[0]).not.toContain("E");
    expect(sent.join("") + filter.end()).toBe("abc ");
    expect(filter.stopped).toBe(true);
    const open = createStopFilter(["END"]);
    expect(open.push("abE") + open.end()).toBe("abE");
    expect(open.stopped).toBe(false);
    expect(createStopFilter([]).push("x")).toBe("x");
  });
});
