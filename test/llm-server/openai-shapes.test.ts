/**
 * A user's walk through serve-llm's OpenAI surface with the official `openai` client: the fields
 * OpenAI's reference gives its objects (message `refusal`, `system_fingerprint`, usage with
 * `prompt_tokens_details.cached_tokens`, `usage: null` on every streamed chunk but the last with
 * include_usage), assistant messages sent back as received (runTools adds `parsed`,
 * `parsed_arguments`), and errors whose `param` names the field at fault.
 */
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningLlmServer } from "../../src/llm-server/server.js";
import { startOpenAiServer } from "./helpers.js";

const weather = {
  type: "object",
  properties: { city: { type: "string", maxLength: 6 } },
  required: ["city"],
  additionalProperties: false,
};
const messages: OpenAI.Chat.Completions.ChatCompletionMessageParam[] = [
  { role: "user", content: "What is the weather in Paris?" },
];

let server: RunningLlmServer;
let client: OpenAI;
beforeAll(async () => {
  ({ server, client } = await startOpenAiServer({ modelId: "tiny-chat", maxInputTokens: 768, maxTotalTokens: 1024 }));
}, 120_000);
afterAll(async () => {
  await server?.shutdown();
});

/** The error the client raises (an OpenAI.APIError subclass), or a failure if it did not raise. */
async function apiError(call: () => Promise<unknown>): Promise<InstanceType<typeof OpenAI.APIError>> {
  try {
    await call();
  } catch (error) {
    if (error instanceof OpenAI.APIError) return error;
    throw error;
  }
  throw new Error("the call did not fail");
}

describe("response shapes", () => {
  it("chat.completion: message.refusal null, a system_fingerprint, usage with cached prompt tokens", async () => {
    const request = { model: "tiny-chat", messages, max_tokens: 4, seed: 7, temperature: 0 };
    const first = await client.chat.completions.create(request);
    expect(first.choices[0]?.message).toMatchObject({ role: "assistant", refusal: null });
    expect(first.system_fingerprint).toMatch(/^fp_[0-9a-f]{12}$/);
    expect(first.usage?.prompt_tokens_details?.cached_tokens).toBeTypeOf("number");
    // The same prompt again: its prefix comes from the prompt cache, the fingerprint is the same.
    const again = await client.chat.completions.create(request);
    expect(again.system_fingerprint).toBe(first.system_fingerprint);
    expect(again.usage?.prompt_tokens_details?.cached_tokens).toBeGreaterThan(0);
    expect(again.usage?.prompt_tokens_details?.cached_tokens).toBeLessThan(again.usage?.prompt_tokens ?? 0);
    expect(again.choices[0]?.message.content).toBe(first.choices[0]?.message.content);

    const completion = await client.completions.create({ model: "tiny-chat", prompt: "Hello", max_tokens: 2 });
    expect(completion.system_fingerprint).toBe(first.system_fingerprint);
    expect(completion.usage?.prompt_tokens_details?.cached_tokens).toBeTypeOf("number");
  });

  it("streams with include_usage: usage null on every chunk but the last, which has no choices", async () => {
    for (const stream of [
      await client.chat.completions.create({
        model: "tiny-chat",
        messages,
        max_tokens: 3,
        n: 2,
        stream: true,
        stream_options: { include_usage: true },
      }),
      await client.completions.create({
        model: "tiny-chat",
        prompt: "Hello",
        max_tokens: 3,
        stream: true,
        stream_options: { include_usage: true },
      }),
    ]) {
      const chunks: Array<{ usage?: unknown; choices: unknown[]; system_fingerprint?: string | null }> = [];
      for await (const chunk of stream) chunks.push(chunk);
      const last = chunks.at(-1);
      expect(last?.choices).toEqual([]);
      expect(last?.usage).toMatchObject({ prompt_tokens_details: { cached_tokens: expect.any(Number) } });
      for (const chunk of chunks.slice(0, -1)) expect(chunk.usage).toBeNull();
      for (const chunk of chunks) expect(chunk.system_fingerprint).toMatch(/^fp_[0-9a-f]{12}$/);
    }
    // Without include_usage no chunk has the field.
    const plain = await client.chat.completions.create({ model: "tiny-chat", messages, max_tokens: 2, stream: true });
    for await (const chunk of plain) expect("usage" in chunk).toBe(false);
  });
});

describe("chat logprobs of a character split over byte tokens", () => {
  it("give each token's raw bytes (not those of U+FFFD), which join to the character", async () => {
    const tokenized = (await (
      await fetch(`${server.url}/tokenize`, { method: "POST", body: JSON.stringify({ content: "é" }) })
    ).json()) as { tokens: number[] };
    // The tokenizer's leading space, then é's two bytes.
    const [first, second] = tokenized.tokens.slice(-2);
    // Force the two byte tokens: whichever comes, its bytes are one of é's two bytes.
    const response = await client.chat.completions.create({
      model: "tiny-chat",
      messages,
      max_tokens: 2,
      temperature: 0,
      logprobs: true,
      top_logprobs: 5,
      logit_bias: { [String(first)]: 100, [String(second)]: 100 },
    });
    const content = response.choices[0]?.logprobs?.content ?? [];
    expect(content).toHaveLength(2);
    for (const entry of content) {
      expect([[0xc3], [0xa9]]).toContainEqual(entry.bytes);
      expect(entry.token).toBe("\uFFFD");
      for (const alternative of entry.top_logprobs) {
        expect(alternative.bytes?.length).toBeGreaterThan(0);
        expect(alternative.bytes).not.toEqual([0xef, 0xbf, 0xbd]);
      }
    }
  });
});

describe("legacy completions with echo and logprobs", () => {
  it("cover the prompt's tokens first (no alternatives), then the completion's, offsets into the echoed text", async () => {
    const prompt = "Hello there twin";
    const response = await client.completions.create({
      model: "tiny-chat",
      prompt,
      max_tokens: 3,
      echo: true,
      logprobs: 1,
      temperature: 0,
      ignore_eos: true,
    } as OpenAI.CompletionCreateParamsNonStreaming);
    const choice = response.choices[0];
    const logprobs = choice?.logprobs;
    if (choice === undefined || logprobs == null) throw new Error("no logprobs");
    expect(choice.text.startsWith(prompt)).toBe(true);
    const tokens = logprobs.tokens ?? [];
    const offsets = logprobs.text_offset ?? [];
    const top = logprobs.top_logprobs ?? [];
    const promptCount = tokens.length - 3;
    expect(promptCount).toBeGreaterThan(0);
    // The prompt's tokens spell the prompt (the tokenizer's leading space aside).
    expect(tokens.slice(0, promptCount).join("").trimStart()).toBe(prompt);
    expect(top.slice(0, promptCount).every((entry) => entry === null)).toBe(true);
    expect(top.slice(promptCount).every((entry) => entry !== null && Object.keys(entry).length === 1)).toBe(true);
    expect(logprobs.token_logprobs?.slice(1).every((value) => typeof value === "number" && value <= 0)).toBe(true);
    expect(offsets[0]).toBe(0);
    expect(offsets[promptCount]).toBe(prompt.length);
    for (const [index, offset] of offsets.entries()) expect(offset).toBeGreaterThanOrEqual(offsets[index - 1] ?? 0);
    // Each prompt token starts where the echoed text has it.
    for (let index = 1; index < promptCount; index += 1) {
      const token = tokens[index] ?? "";
      expect(prompt.slice(offsets[index], (offsets[index] ?? 0) + token.length)).toBe(token);
    }
  });
});

describe("messages sent back as received", () => {
  it("runTools: the assistant message with the client's parsed fields is accepted, the tool result answered", async () => {
    const calls: unknown[] = [];
    const runner = client.beta.chat.completions.runTools(
      {
        model: "tiny-chat",
        messages,
        // Greedy and one call per answer: the calls are short and finish within max_tokens.
        max_tokens: 200,
        temperature: 0,
        parallel_tool_calls: false,
        tool_choice: "required",
        tools: [
          {
            type: "function",
            function: {
              name: "get_weather",
              description: "Weather in a city",
              parameters: weather,
              parse: JSON.parse,
              function: (args: unknown) => {
                calls.push(args);
                return "sunny";
              },
            },
          },
        ],
      },
      { maxChatCompletions: 2 },
    );
    const final = await runner.finalChatCompletion();
    expect(calls.length).toBeGreaterThanOrEqual(1);
    expect(calls[0]).toMatchObject({ city: expect.any(String) });
    expect(final.choices).toHaveLength(1);
    // Two requests went out: the second carried the assistant's call and the tool's result.
    expect(runner.messages.some((message) => message.role === "tool")).toBe(true);
  });

  it("a response message appended to the history as is (refusal, annotations) is accepted", async () => {
    const first = await client.chat.completions.create({ model: "tiny-chat", messages, max_tokens: 3 });
    const reply = first.choices[0]?.message;
    if (reply === undefined) throw new Error("no choice");
    const next = await client.chat.completions.create({
      model: "tiny-chat",
      messages: [...messages, { ...reply, annotations: [] } as never, { role: "user", content: "And tomorrow?" }],
      max_tokens: 3,
    });
    expect(next.choices[0]?.message.role).toBe("assistant");
    expect(["stop", "length"]).toContain(next.choices[0]?.finish_reason);
  });
});

describe("errors name the field at fault (OpenAI's error.param)", () => {
  it.each([
    ["empty messages", { messages: [] }, "messages", /`messages`: cannot be empty \(send at least one message\)$/],
    [
      "an image part",
      { messages: [{ role: "user", content: [{ type: "image_url", image_url: { url: "https://x/y.png" } }] }] },
      "messages.0.content.0.type",
      /'image_url' is not supported: expected "text" \(this model reads text only\)/,
    ],
    [
      "a tool message without tool_call_id",
      {
        messages: [
          { role: "user", content: "hi" },
          { role: "tool", content: "42" },
        ],
      },
      "messages.1.tool_call_id",
      /is required in a message with role `tool`/,
    ],
    ["top_logprobs above 20", { logprobs: true, top_logprobs: 21 }, "top_logprobs", /`top_logprobs`/],
    ["an unknown parameter", { frobnicate: 1 }, "frobnicate", /unknown parameter\(s\) `frobnicate`/],
    ["n above the parallel sequences", { n: 3 }, "n", /`n` = 3/],
    ["max_tokens beyond the limit", { max_tokens: 100_000 }, "max_tokens", /`max_tokens` must be <=/],
    [
      "max_completion_tokens beyond the limit",
      { max_tokens: undefined, max_completion_tokens: 100_000 },
      "max_completion_tokens",
      /`max_completion_tokens` must be <=/,
    ],
    ["logit_bias on a token outside the vocabulary", { logit_bias: { "999999": 1 } }, "logit_bias", /999999/],
    ["a prompt too long", { messages: [{ role: "user", content: "hello ".repeat(1000) }] }, "messages", /`messages`/],
    [
      "a tool whose parameters are not an object schema",
      { tools: [{ type: "function", function: { name: "f", parameters: { type: "string" } } }] },
      "tools.0.function.parameters",
      /must be a JSON schema of `type: "object"`.*Given: type "string"/,
    ],
    [
      "tool_choice naming a missing function",
      {
        tools: [{ type: "function", function: { name: "f", parameters: weather } }],
        tool_choice: { type: "function", function: { name: "g" } },
      },
      "tool_choice.function.name",
      /'g' is not one of `tools`/,
    ],
  ])("%s", async (_label, fields, param, message) => {
    const error = await apiError(() =>
      client.chat.completions.create({ model: "tiny-chat", messages, max_tokens: 2, ...fields } as never),
    );
    expect(error).toBeInstanceOf(OpenAI.UnprocessableEntityError);
    expect(error.param).toBe(param);
    expect(error.message).toMatch(message);
    expect(error.type).toBe("invalid_request_error");
  });

  it("a prompt too long on /v1/completions names `prompt`", async () => {
    const error = await apiError(() =>
      client.completions.create({ model: "tiny-chat", prompt: "hello ".repeat(1000), max_tokens: 2 }),
    );
    expect(error.param).toBe("prompt");
    expect(error.message).toMatch(/`prompt` must have less than 768 tokens/);
  });
});
