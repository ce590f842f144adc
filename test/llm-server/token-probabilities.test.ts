/**
 * Log-probabilities, n > 1, best_of, seed and stop over HTTP, on the generated tiny model, on both
 * engines: OpenAI `logprobs`/`top_logprobs` (chat) and the legacy integer (completions), streamed
 * too; `n` choices (equal at temperature 0, different when sampled, prompt counted once); TGI
 * `top_n_tokens`, `decoder_input_details` prefill logprobs and `best_of`.
 */
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sseData, startTestService, type TestService, waitFor } from "./helpers.js";

let service: TestService;
let client: OpenAI;
beforeAll(async () => {
  service = await startTestService({ parallel: 4, maxChoices: 3 });
  const address = await service.app.listen({ host: "127.0.0.1", port: 0 });
  client = new OpenAI({ baseURL: `${address}/v1`, apiKey: "unused", maxRetries: 0 });
});
afterAll(async () => {
  await service?.close();
});

const post = (url: string, payload: object) => service.app.inject({ method: "POST", url, payload });

// Byte tokens of random weights decode to broken characters on their own: tests that compare
// token texts with the text keep to whole-word tokens.
const WORDS_ONLY = Object.fromEntries(Array.from({ length: 300 }, (_, id) => [String(id), -100]));
const greedy = { temperature: 0, ignore_eos: true, logit_bias: WORDS_ONLY };

type ChatLogprob = {
  token: string;
  logprob: number;
  bytes: number[];
  top_logprobs: Array<{ token: string; logprob: number; bytes: number[] }>;
};

function expectSortedNonPositive(values: readonly number[]): void {
  for (const value of values) expect(value).toBeLessThanOrEqual(0);
  expect([...values].sort((a, b) => b - a)).toEqual(values);
}

describe("OpenAI logprobs", () => {
  it("chat: logprobs.content has each token with its bytes and sorted top_logprobs", async () => {
    const response = await post("/v1/chat/completions", {
      messages: [{ role: "user", content: "Hello" }],
      max_tokens: 6,
      logprobs: true,
      top_logprobs: 5,
      temperature: 0,
      ignore_eos: true,
    });
    expect(response.statusCode).toBe(200);
    const body = response.json();
    const content = body.choices[0].logprobs.content as ChatLogprob[];
    expect(content).toHaveLength(body.usage.completion_tokens);
    for (const entry of content) {
      // A byte of a split character: its raw byte (openai-shapes.test.ts); else the text's UTF-8.
      if (entry.token === "\uFFFD") expect(entry.bytes).toEqual([expect.any(Number)]);
      else expect(entry.bytes).toEqual(Array.from(Buffer.from(entry.token)));
      expect(entry.top_logprobs).toHaveLength(5);
      expectSortedNonPositive(entry.top_logprobs.map((top) => top.logprob));
      // Greedy over the raw distribution: the sampled token is the most likely one.
      expect(entry.top_logprobs[0]).toEqual({ token: entry.token, logprob: entry.logprob, bytes: entry.bytes });
    }
  });

  it("chat: logprobs without top_logprobs; out-of-range or inconsistent fields are 422", async () => {
    const plain = await post("/v1/chat/completions", {
      messages: [{ role: "user", content: "Hello" }],
      max_tokens: 4,
      logprobs: true,
      ...greedy,
    });
    expect(plain.statusCode).toBe(200);
    for (const entry of plain.json().choices[0].logprobs.content as ChatLogprob[]) {
      expect(entry.logprob).toBeLessThanOrEqual(0);
      expect(entry.top_logprobs).toEqual([]);
    }
    const invalid = [{ logprobs: false, top_logprobs: 2 }, { logprobs: true, top_logprobs: 21 }, { logprobs: 3 }];
    for (const fields of invalid) {
      const response = await post("/v1/chat/completions", { messages: [{ role: "user", content: "x" }], ...fields });
      expect(response.statusCode).toBe(422);
    }
  });

  it("completions: the legacy shape with text offsets, also echoed and streamed", async () => {
    const request = { prompt: "Twin", max_tokens: 5, logprobs: 3, echo: true, ...greedy };
    const response = await post("/v1/completions", request);
    expect(response.statusCode).toBe(200);
    const choice = response.json().choices[0];
    const echoed = choice.logprobs as {
      tokens: string[];
      token_logprobs: number[];
      top_logprobs: Array<Record<string, number>>;
      text_offset: number[];
    };
    // With echo the prompt's tokens come first (openai-shapes.test.ts); here, the completion's.
    const completionPart = (values: readonly unknown[]) => values.slice(-5);
    const logprobs = {
      tokens: completionPart(echoed.tokens) as string[],
      token_logprobs: completionPart(echoed.token_logprobs) as number[],
      top_logprobs: completionPart(echoed.top_logprobs) as Array<Record<string, number>>,
      text_offset: completionPart(echoed.text_offset) as number[],
    };
    expect(echoed.tokens.length).toBeGreaterThan(5);
    expect(logprobs.tokens).toHaveLength(5);
    expect(logprobs.token_logprobs).toHaveLength(5);
    expect(logprobs.top_logprobs).toHaveLength(5);
    expect(logprobs.text_offset[0]).toBe("Twin".length);
    logprobs.tokens.forEach((token, index) => {
      expect(choice.text.slice(logprobs.text_offset[index], (logprobs.text_offset[index] ?? 0) + token.length)).toBe(
        token,
      );
      const top = Object.values(logprobs.top_logprobs[index] ?? {});
      expect(top.length).toBeGreaterThan(0);
      expectSortedNonPositive(top);
      // The raw distribution, before logit_bias: banned tokens may rank above the sampled one.
      expect(logprobs.token_logprobs[index]).toBeLessThanOrEqual(Math.max(...top));
    });
    const stream = await post("/v1/completions", { ...request, stream: true });
    const chunks = sseData(stream.body)
      .filter((data) => data !== "[DONE]")
      .map((data) => JSON.parse(data))
      .filter((chunk) => chunk.choices[0]?.logprobs != null);
    expect(chunks.flatMap((chunk) => chunk.choices[0].logprobs.tokens)).toEqual(logprobs.tokens);
    // Equal up to float noise (this request's prompt comes from the cache, computed in another batch).
    const streamed = chunks.flatMap((chunk) => chunk.choices[0].logprobs.token_logprobs) as number[];
    expect(streamed.map((value) => value.toFixed(3))).toEqual(logprobs.token_logprobs.map((value) => value.toFixed(3)));
  });

  it("chat streams one logprobs entry per token", async () => {
    const response = await post("/v1/chat/completions", {
      messages: [{ role: "user", content: "Hi" }],
      max_tokens: 5,
      logprobs: true,
      stream: true,
      stream_options: { include_usage: true },
      ...greedy,
    });
    const chunks = sseData(response.body)
      .filter((data) => data !== "[DONE]")
      .map((data) => JSON.parse(data));
    const entries = chunks.flatMap((chunk) => chunk.choices[0]?.logprobs?.content ?? []) as ChatLogprob[];
    expect(entries).toHaveLength(chunks.at(-1).usage.completion_tokens);
    for (const entry of entries) expect(entry.logprob).toBeLessThanOrEqual(0);
  });
});

describe("n > 1", () => {
  it("n choices are equal at temperature 0; the prompt counts once, completions add up", async () => {
    const request = { messages: [{ role: "user", content: "Hello there" }], max_tokens: 6, ...greedy };
    const one = (await post("/v1/chat/completions", request)).json();
    const response = await post("/v1/chat/completions", { ...request, n: 3 });
    expect(response.statusCode).toBe(200);
    const body = response.json();
    expect(body.choices.map((choice: { index: number }) => choice.index)).toEqual([0, 1, 2]);
    for (const choice of body.choices) expect(choice.message.content).toBe(one.choices[0].message.content);
    expect(body.usage).toMatchObject({
      prompt_tokens: one.usage.prompt_tokens,
      completion_tokens: 3 * one.usage.completion_tokens,
      total_tokens: one.usage.prompt_tokens + 3 * one.usage.completion_tokens,
    });
  });

  it("sampled choices differ; a seed reproduces them, streamed with per-choice indices", async () => {
    const request = { prompt: "The twin", max_tokens: 12, n: 3, temperature: 1, seed: 42, ignore_eos: true };
    const first = (await post("/v1/completions", request)).json();
    const texts = first.choices.map((choice: { text: string }) => choice.text) as string[];
    expect(new Set(texts).size).toBe(3);
    const again = (await post("/v1/completions", request)).json();
    expect(again.choices.map((choice: { text: string }) => choice.text)).toEqual(texts);
    const stream = await post("/v1/completions", { ...request, stream: true });
    const chunks = sseData(stream.body)
      .filter((data) => data !== "[DONE]")
      .map((data) => JSON.parse(data));
    const streamed = ["", "", ""];
    const finished: number[] = [];
    for (const chunk of chunks) {
      const choice = chunk.choices[0];
      streamed[choice.index] += choice.text;
      if (choice.finish_reason !== null) finished.push(choice.index);
    }
    expect(streamed).toEqual(texts);
    expect(finished.sort()).toEqual([0, 1, 2]);
  });

  it("a client that leaves an n > 1 stream frees every choice's sequence", async () => {
    const engine = service.holder.require();
    const controller = new AbortController();
    const address = client.baseURL.replace(/\/v1$/, "");
    const response = await fetch(`${address}/v1/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ prompt: "Long", max_tokens: 400, n: 3, stream: true, ignore_eos: true }),
      signal: controller.signal,
    });
    const reader = response.body?.getReader();
    await reader?.read();
    expect(engine.stats().sequencesInUse).toBeGreaterThan(0);
    controller.abort();
    await waitFor(async () => engine.stats().sequencesInUse === 0, "the sequences to be released");
  });

  it("n beyond --max-n or the parallel sequences is 422 too_many_choices", async () => {
    const response = await post("/v1/chat/completions", { messages: [{ role: "user", content: "x" }], n: 4 });
    expect(response.statusCode).toBe(422);
    expect(response.json().error).toMatchObject({ code: "too_many_choices" });
    expect(response.json().error.message).toMatch(/--max-n/);
  });
});

describe("through the official openai client", () => {
  it("reads n choices and logprobs", async () => {
    const completion = await client.chat.completions.create({
      model: "tiny-chat",
      messages: [{ role: "user", content: "Hello" }],
      max_tokens: 4,
      n: 2,
      temperature: 0,
      logprobs: true,
      top_logprobs: 3,
    });
    expect(completion.choices).toHaveLength(2);
    for (const choice of completion.choices) {
      const content = choice.logprobs?.content ?? [];
      expect(content.length).toBeGreaterThan(0);
      for (const entry of content) {
        expect(entry.logprob).toBeLessThanOrEqual(0);
        expect(entry.top_logprobs).toHaveLength(3);
      }
    }
    expect(completion.choices[1]?.message.content).toBe(completion.choices[0]?.message.content);
  });
});

describe("seed and stop on chat and completions", () => {
  it("a fixed seed at temperature > 0 reproduces the output", async () => {
    const chat = { messages: [{ role: "user", content: "Tell" }], max_tokens: 12, temperature: 1.2, ignore_eos: true };
    const a = (await post("/v1/chat/completions", { ...chat, seed: 5 })).json().choices[0].message.content;
    expect((await post("/v1/chat/completions", { ...chat, seed: 5 })).json().choices[0].message.content).toBe(a);
    expect((await post("/v1/chat/completions", { ...chat, seed: 6 })).json().choices[0].message.content).not.toBe(a);
    const completion = { prompt: "Tell", max_tokens: 12, temperature: 1.2, ignore_eos: true, seed: 5 };
    const b = (await post("/v1/completions", completion)).json().choices[0].text;
    expect((await post("/v1/completions", completion)).json().choices[0].text).toBe(b);
  });

  it("a stop string spanning two tokens cuts the output before it", async () => {
    for (const url of ["/v1/chat/completions", "/v1/completions"]) {
      const base =
        url === "/v1/completions"
          ? { prompt: "Twin", max_tokens: 10, logprobs: 0, ...greedy }
          : { messages: [{ role: "user", content: "Twin" }], max_tokens: 10, logprobs: true, ...greedy };
      const full = (await post(url, base)).json().choices[0];
      const tokens: string[] =
        url === "/v1/completions"
          ? full.logprobs.tokens
          : full.logprobs.content.map((entry: ChatLogprob) => entry.token);
      const text: string = url === "/v1/completions" ? full.text : full.message.content;
      // The last character of token 2 and the first of token 3.
      const boundary = tokens.slice(0, 3).join("").length;
      const stop = text.slice(boundary - 1, boundary + 1);
      expect(stop).toHaveLength(2);
      const stopped = (await post(url, { ...base, stop })).json().choices[0];
      expect(stopped.finish_reason).toBe("stop");
      expect(url === "/v1/completions" ? stopped.text : stopped.message.content).toBe(
        text.slice(0, text.indexOf(stop)),
      );
    }
  });
});

type TgiDetails = {
  tokens: Array<{ id: number; logprob: number }>;
  top_tokens?: Array<Array<{ id: number; logprob: number }>>;
  prefill: Array<{ id: number; logprob: number | null }>;
  input_length: number;
  seed: number | null;
  best_of_sequences?: Array<{ generated_text: string; seed: number; tokens: Array<{ logprob: number }> }>;
};

describe("TGI token probabilities and best_of", () => {
  it("top_n_tokens gives details.top_tokens per token, streamed too", async () => {
    const parameters = { max_new_tokens: 5, details: true, top_n_tokens: 4, ignore_eos: true };
    const response = await post("/generate", { inputs: "Hello", parameters });
    expect(response.statusCode).toBe(200);
    const details = response.json().details as TgiDetails;
    expect(details.top_tokens).toHaveLength(5);
    details.top_tokens?.forEach((top, index) => {
      expect(top).toHaveLength(4);
      expectSortedNonPositive(top.map((token) => token.logprob));
      expect(top[0]?.id).toBe(details.tokens[index]?.id);
    });
    const stream = await post("/generate_stream", { inputs: "Hello", parameters });
    const events = sseData(stream.body).map((data) => JSON.parse(data));
    // The same tokens, logprobs equal up to float noise (the stream's prompt comes from the cache).
    const rounded = (top: Array<Array<{ id: number; logprob: number }>>) =>
      top.map((tokens) => tokens.map((token) => [token.id, token.logprob.toFixed(3)]));
    expect(rounded(events.map((event) => event.top_tokens))).toEqual(rounded(details.top_tokens ?? []));
  });

  it("decoder_input_details gives one prefill entry per prompt token, the first without logprob", async () => {
    const response = await post("/generate", {
      inputs: "The twin writes",
      parameters: { max_new_tokens: 2, details: true, decoder_input_details: true },
    });
    const details = response.json().details as TgiDetails;
    expect(details.prefill).toHaveLength(details.input_length);
    expect(details.prefill[0]?.logprob).toBeNull();
    for (const entry of details.prefill.slice(1)) {
      expect(typeof entry.logprob).toBe("number");
      expect(entry.logprob).toBeLessThanOrEqual(0);
    }
  });

  it("best_of returns the sequence with the highest total logprob, the others in best_of_sequences", async () => {
    const response = await post("/generate", {
      inputs: "The twin",
      parameters: { max_new_tokens: 8, best_of: 3, do_sample: true, details: true, ignore_eos: true },
    });
    expect(response.statusCode).toBe(200);
    const details = response.json().details as TgiDetails;
    expect(details.best_of_sequences).toHaveLength(2);
    const total = (tokens: Array<{ logprob: number }>): number => tokens.reduce((sum, token) => sum + token.logprob, 0);
    for (const other of details.best_of_sequences ?? []) {
      expect(total(details.tokens)).toBeGreaterThanOrEqual(total(other.tokens));
      expect(other.seed).not.toBe(details.seed);
    }
    const refused = [
      { url: "/generate", parameters: { best_of: 2, do_sample: true, seed: 1 }, message: /`seed` must not be set/ },
      { url: "/generate_stream", parameters: { best_of: 2, do_sample: true }, message: /not supported when streaming/ },
      { url: "/generate", parameters: { best_of: 2 }, message: /you must use sampling/ },
      { url: "/generate", parameters: { best_of: 4, do_sample: true }, message: /at most 3/ },
      { url: "/generate", parameters: { top_n_tokens: 21 }, message: /`top_n_tokens` must be >= 0 and <= 20/ },
    ];
    for (const { url, parameters, message } of refused) {
      const refusal = await post(url, { inputs: "x", parameters });
      expect(refusal.statusCode).toBe(422);
      expect(refusal.json().error).toMatch(message);
    }
    const info = (await service.app.inject({ method: "GET", url: "/info" })).json();
    expect(info.max_best_of).toBe(3);
  });
});
