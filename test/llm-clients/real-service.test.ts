/**
 * The HTTP client adapters against the REAL LLM service (`serve-llm`'s app on real llama.cpp with
 * a generated tiny GGUF), in-process on a loopback port. Random weights make meaningless text:
 * these tests check mechanics (routes, SSE framing, usage, limits, stops, grammar, cancellation).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AppError } from "../../src/errors/index.js";
import { tinyModelPath } from "../../src/gguf/index.js";
import { createOpenAiLanguageModel, createTgiLanguageModel } from "../../src/llm/clients/index.js";
import type { LanguageModel, StreamPart } from "../../src/llm/port.js";
import { parseLlmServerConfig } from "../../src/llm-server/config.js";
import { type RunningLlmServer, startLlmServer } from "../../src/llm-server/server.js";
import { collect } from "./test-support.js";

let server: RunningLlmServer;
let tgi: LanguageModel;
let openai: LanguageModel;

beforeAll(async () => {
  const model = await tinyModelPath("chat");
  server = await startLlmServer(
    parseLlmServerConfig({
      model,
      host: "127.0.0.1",
      port: 0,
      parallel: 2,
      threads: 1,
      maxInputTokens: 256,
      maxTotalTokens: 512,
      logLevel: "silent",
    }),
  );
  await server.ready;
  tgi = createTgiLanguageModel({ url: server.url, retries: 0, timeoutMs: 30_000 });
  openai = createOpenAiLanguageModel({ url: server.url, retries: 0, timeoutMs: 30_000 });
});

afterAll(async () => {
  await tgi?.[Symbol.asyncDispose]();
  await openai?.[Symbol.asyncDispose]();
  await server?.shutdown("tests done");
});

function checkStream(parts: StreamPart[], maxNewTokens: number): void {
  const done = parts.at(-1);
  expect(done?.type).toBe("done");
  expect(parts.filter((part) => part.type === "done")).toHaveLength(1);
  if (done?.type !== "done") return;
  expect(done.usage.promptTokens).toBeGreaterThan(0);
  expect(done.usage.completionTokens).toBeGreaterThan(0);
  expect(done.usage.completionTokens).toBeLessThanOrEqual(maxNewTokens);
}

async function metric(name: string): Promise<number> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  const line = text.split("\n").find((entry) => entry.startsWith(`${name} `) || entry.startsWith(`${name}{`));
  return line === undefined ? Number.NaN : Number(line.split(" ").at(-1));
}

describe("HTTP clients against the real serve-llm service", () => {
  it("TGI client: /generate with usage and a length finish, and health", async () => {
    expect(await tgi.health()).toBe(true);
    const result = await tgi.generate({ prompt: "Hello there", maxNewTokens: 8, temperature: 0 });
    expect(result.usage.promptTokens).toBeGreaterThan(0);
    expect(result.usage.completionTokens).toBeGreaterThan(0);
    expect(result.usage.completionTokens).toBeLessThanOrEqual(8);
    expect(["length", "eos", "stop"]).toContain(result.finishReason);
  });

  it("TGI client: greedy generation is reproducible and equals the streamed text", async () => {
    const request = { prompt: "The twin writes", maxNewTokens: 12, temperature: 0 } as const;
    const first = await tgi.generate(request);
    const second = await tgi.generate(request);
    expect(second.text).toBe(first.text);
    const parts = await collect(tgi.stream(request));
    checkStream(parts, 12);
    const streamed = parts.map((part) => (part.type === "token" ? part.text : "")).join("");
    expect(streamed).toBe(first.text);
  });

  it("TGI client: chat through the Messages API, streamed and not", async () => {
    const request = { messages: [{ role: "user" as const, content: "Hi" }], maxNewTokens: 6, temperature: 0 };
    const result = await tgi.generate(request);
    expect(result.usage.completionTokens).toBeLessThanOrEqual(6);
    checkStream(await collect(tgi.stream(request)), 6);
  });

  it("TGI client: a JSON-schema grammar yields JSON", async () => {
    const result = await tgi.generate({
      prompt: "Give JSON",
      maxNewTokens: 40,
      temperature: 0,
      jsonSchema: { type: "object", properties: { ok: { type: "boolean" } }, required: ["ok"] },
    });
    if (result.finishReason !== "length") expect(typeof JSON.parse(result.text)).toBe("object");
    else expect(result.text.trimStart().startsWith("{")).toBe(true);
  });

  it("TGI client: a request over the service's limits is a validation_error with the numbers", async () => {
    const error = await tgi
      .generate({ prompt: "word ".repeat(400), maxNewTokens: 8 })
      .catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).code).toBe("validation_error");
    expect((error as AppError).message).toMatch(/\d+/);
  });

  it("OpenAI client: completions and chat completions, streamed with usage", async () => {
    const completion = await openai.generate({ prompt: "Once", maxNewTokens: 5, temperature: 0 });
    expect(completion.usage.completionTokens).toBeGreaterThan(0);
    checkStream(await collect(openai.stream({ prompt: "Once", maxNewTokens: 5, temperature: 0 })), 5);
    const chat = await openai.generate({ messages: [{ role: "user", content: "Hey" }], maxNewTokens: 5 });
    expect(chat.usage.promptTokens).toBeGreaterThan(0);
    checkStream(await collect(openai.stream({ messages: [{ role: "user", content: "Hey" }], maxNewTokens: 5 })), 5);
    expect(await openai.health()).toBe(true);
  });

  it("OpenAI and TGI clients agree on greedy output for the same prompt", async () => {
    const request = { prompt: "Same prompt", maxNewTokens: 10, temperature: 0 } as const;
    expect((await openai.generate(request)).text).toBe((await tgi.generate(request)).text);
  });

  it("cancelling a stream through the client frees the server's sequence at once", async () => {
    let error: unknown;
    let tokens = 0;
    // A random-weight model may sample the end of text by the third token (the last token's event
    // also carries the end, so `done` follows the third token before the abort is seen): then the
    // stream ended on its own, with nothing to cancel, and the request is made again.
    for (let attempt = 0; attempt < 8 && error === undefined; attempt++) {
      const controller = new AbortController();
      tokens = 0;
      let ended = false;
      error = await (async () => {
        for await (const part of tgi.stream({
          prompt: "Go on",
          maxNewTokens: 400,
          temperature: 0.8,
          signal: controller.signal,
        })) {
          if (part.type === "token" && ++tokens === 3) controller.abort();
          if (part.type === "done") ended = true;
        }
      })().catch((thrown: unknown) => thrown);
      if (error === undefined && !ended) break;
    }
    expect(tokens, "the stream was cancelled after its third token").toBeGreaterThanOrEqual(3);
    expect((error as AppError).code).toBe("aborted");
    let inUse = Number.NaN;
    for (let attempt = 0; attempt < 50; attempt++) {
      inUse = await metric("llm_twin_sequences_in_use");
      if (inUse === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(inUse).toBe(0);
    // Both sequences are free: two concurrent requests are served.
    const results = await Promise.all([
      tgi.generate({ prompt: "a", maxNewTokens: 3 }),
      tgi.generate({ prompt: "b", maxNewTokens: 3 }),
    ]);
    expect(results).toHaveLength(2);
  });
});
