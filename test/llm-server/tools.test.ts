/**
 * tools + tool_choice on /v1/chat/completions through the official `openai` client against a real
 * serve-llm on the generated tiny model: random weights, so the grammar is what guarantees that
 * required and named calls parse and validate against the tool's parameters, streamed or not.
 */
import { Ajv } from "ajv";
import type OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningLlmServer } from "../../src/llm-server/server.js";
import { startOpenAiServer } from "./helpers.js";

const weather = {
  type: "object",
  properties: {
    city: { type: "string", maxLength: 6 },
    days: { type: "integer", minimum: 1, maximum: 7 },
  },
  required: ["city", "days"],
  additionalProperties: false,
};
const tools: OpenAI.Chat.Completions.ChatCompletionTool[] = [
  { type: "function", function: { name: "get_weather", description: "Weather forecast", parameters: weather } },
  {
    type: "function",
    function: {
      name: "search",
      parameters: { type: "object", properties: { q: { type: "string", maxLength: 5 } }, required: ["q"] },
    },
  },
];
const validateWeather = new Ajv({ strict: false }).compile(weather);
const messages: OpenAI.Chat.Completions.ChatCompletionMessageParam[] = [
  { role: "user", content: "What is the weather in Paris?" },
];

let server: RunningLlmServer;
let client: OpenAI;
beforeAll(async () => {
  ({ server, client } = await startOpenAiServer());
}, 120_000);
afterAll(async () => {
  await server?.shutdown();
});

describe("tool calls", () => {
  it("a named function is called with arguments that validate against its parameters", async () => {
    for (const seed of [1, 2, 3]) {
      const completion = await client.chat.completions.create({
        model: "tiny-chat",
        messages,
        tools,
        tool_choice: { type: "function", function: { name: "get_weather" } },
        // One call: an array of calls from random weights can outgrow max_tokens.
        parallel_tool_calls: false,
        temperature: 1,
        seed,
        max_tokens: 128,
      });
      const choice = completion.choices[0];
      expect(choice?.finish_reason).toBe("tool_calls");
      expect(choice?.message.content).toBeNull();
      const calls = choice?.message.tool_calls ?? [];
      expect(calls).toHaveLength(1);
      for (const call of calls) {
        expect(call.type).toBe("function");
        expect(call.id).toMatch(/^call_[0-9a-f]{24}$/);
        expect(call.function.name).toBe("get_weather");
        const args = JSON.parse(call.function.arguments) as unknown;
        expect(validateWeather(args), call.function.arguments).toBe(true);
      }
    }
  });

  it('"required" calls one of the tools; parallel_tool_calls: false makes it exactly one', async () => {
    const completion = await client.chat.completions.create({
      model: "tiny-chat",
      messages,
      tools,
      tool_choice: "required",
      parallel_tool_calls: false,
      temperature: 1,
      seed: 7,
      max_tokens: 96,
    });
    const calls = completion.choices[0]?.message.tool_calls ?? [];
    expect(completion.choices[0]?.finish_reason).toBe("tool_calls");
    expect(calls).toHaveLength(1);
    expect(["get_weather", "search"]).toContain(calls[0]?.function.name);
    expect(typeof JSON.parse(calls[0]?.function.arguments ?? "null")).toBe("object");
  });

  it("streams delta.tool_calls: index, id and name first, then argument fragments that join to valid JSON", async () => {
    const stream = await client.chat.completions.create({
      model: "tiny-chat",
      messages,
      tools,
      tool_choice: { type: "function", function: { name: "get_weather" } },
      parallel_tool_calls: false,
      temperature: 1,
      seed: 11,
      max_tokens: 96,
      stream: true,
    });
    const deltas: OpenAI.Chat.Completions.ChatCompletionChunk.Choice.Delta.ToolCall[] = [];
    let finishReason: string | null = null;
    let content = "";
    for await (const chunk of stream) {
      const choice = chunk.choices[0];
      for (const call of choice?.delta.tool_calls ?? []) deltas.push(call);
      content += choice?.delta.content ?? "";
      finishReason = choice?.finish_reason ?? finishReason;
    }
    expect(finishReason).toBe("tool_calls");
    expect(content).toBe("");
    expect(deltas[0]).toMatchObject({ index: 0, type: "function", function: { name: "get_weather" } });
    expect(deltas[0]?.id).toMatch(/^call_/);
    expect(deltas.length).toBeGreaterThan(2);
    for (const delta of deltas.slice(1)) {
      expect(delta.index).toBe(0);
      expect(delta.id).toBeUndefined();
    }
    const args = deltas.map((delta) => delta.function?.arguments ?? "").join("");
    expect(validateWeather(JSON.parse(args)), args).toBe(true);
  });

  it('"auto" answers either text or valid calls, never a half-formed call', async () => {
    for (const seed of [21, 22, 23, 24]) {
      const completion = await client.chat.completions.create({
        model: "tiny-chat",
        messages,
        tools,
        temperature: 1,
        seed,
        max_tokens: 64,
      });
      const choice = completion.choices[0];
      if (choice?.finish_reason === "tool_calls") {
        for (const call of choice.message.tool_calls ?? []) {
          expect(["get_weather", "search"]).toContain(call.function.name);
          expect(typeof JSON.parse(call.function.arguments)).toBe("object");
        }
      } else {
        expect(typeof choice?.message.content).toBe("string");
        expect(choice?.message.content?.trimStart().startsWith("{")).toBe(false);
      }
    }
  });

  it("with n = 2 every choice is its own valid call, with its own finish_reason and logprobs", async () => {
    const completion = await client.chat.completions.create({
      model: "tiny-chat",
      messages,
      tools,
      tool_choice: { type: "function", function: { name: "get_weather" } },
      parallel_tool_calls: false,
      temperature: 1,
      seed: 5,
      max_tokens: 128,
      n: 2,
      logprobs: true,
      top_logprobs: 2,
    });
    expect(completion.choices.map((choice) => choice.index)).toEqual([0, 1]);
    for (const choice of completion.choices) {
      expect(choice.finish_reason).toBe("tool_calls");
      expect(choice.message.content).toBeNull();
      const [call, ...others] = choice.message.tool_calls ?? [];
      expect(others).toHaveLength(0);
      expect(call?.function.name).toBe("get_weather");
      expect(validateWeather(JSON.parse(call?.function.arguments ?? "null")), call?.function.arguments).toBe(true);
      // The logprobs are those of the call's JSON, token by token.
      const content = choice.logprobs?.content ?? [];
      expect(content.length).toBeGreaterThan(0);
      expect(content.map((entry) => entry.token).join("")).toContain('"arguments"');
      for (const entry of content) {
        expect(entry.logprob).toBeLessThanOrEqual(0);
        expect(entry.top_logprobs).toHaveLength(2);
      }
    }
    expect(completion.usage?.completion_tokens).toBeGreaterThan(0);
  });

  it("streams n = 2 tool calls, each under its choice index, with logprobs on the way", async () => {
    const stream = await client.chat.completions.create({
      model: "tiny-chat",
      messages,
      tools,
      tool_choice: { type: "function", function: { name: "get_weather" } },
      parallel_tool_calls: false,
      temperature: 1,
      seed: 13,
      max_tokens: 128,
      n: 2,
      logprobs: true,
      stream: true,
    });
    const args = ["", ""];
    const names: Array<string | undefined> = [undefined, undefined];
    const finishReasons: Array<string | null> = [null, null];
    const logprobCounts = [0, 0];
    for await (const chunk of stream) {
      for (const choice of chunk.choices) {
        const index = choice.index;
        expect([0, 1]).toContain(index);
        expect(choice.delta.content ?? "").toBe("");
        for (const call of choice.delta.tool_calls ?? []) {
          expect(call.index).toBe(0);
          names[index] ??= call.function?.name;
          args[index] += call.function?.arguments ?? "";
        }
        logprobCounts[index] = (logprobCounts[index] ?? 0) + (choice.logprobs?.content?.length ?? 0);
        finishReasons[index] = choice.finish_reason ?? finishReasons[index] ?? null;
      }
    }
    expect(finishReasons).toEqual(["tool_calls", "tool_calls"]);
    expect(names).toEqual(["get_weather", "get_weather"]);
    for (const text of args) expect(validateWeather(JSON.parse(text)), text).toBe(true);
    for (const count of logprobCounts) expect(count).toBeGreaterThan(0);
  });

  it("accepts assistant tool_calls (content null) and tool results in the history", async () => {
    const completion = await client.chat.completions.create({
      model: "tiny-chat",
      messages: [
        ...messages,
        {
          role: "assistant",
          content: null,
          tool_calls: [
            {
              id: "call_1",
              type: "function",
              function: { name: "get_weather", arguments: '{"city":"Paris","days":1}' },
            },
          ],
        },
        { role: "tool", tool_call_id: "call_1", content: '{"forecast":"sunny"}' },
      ],
      tools,
      tool_choice: "none",
      max_tokens: 8,
    });
    expect(completion.choices[0]?.finish_reason).not.toBe("tool_calls");
    expect(typeof completion.choices[0]?.message.content).toBe("string");
  });

  it("refuses tool choices that cannot be met with 422 naming the field", async () => {
    await expect(
      client.chat.completions.create({
        model: "tiny-chat",
        messages,
        tools,
        tool_choice: { type: "function", function: { name: "missing" } },
      }),
    ).rejects.toMatchObject({ status: 422, message: expect.stringContaining("tool_choice.function.name") });
    await expect(
      client.chat.completions.create({ model: "tiny-chat", messages, tool_choice: "required" }),
    ).rejects.toMatchObject({ status: 422, message: expect.stringContaining("tool_choice") });
    await expect(
      client.chat.completions.create({
        model: "tiny-chat",
        messages: [...messages, { role: "tool", content: "x" } as never],
        tools,
      }),
    ).rejects.toMatchObject({ status: 422, message: expect.stringContaining("tool_call_id") });
  });
});
