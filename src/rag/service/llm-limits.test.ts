import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PromptLimit } from "../retrieve.js";
import { estimateInputTokens, lateLearnedPromptLimit, readTgiPromptLimit } from "./llm-limits.js";

describe("readTgiPromptLimit", () => {
  let url: string;
  let info: unknown = { max_input_tokens: 1024, max_total_tokens: 2048 };
  let tokensPerChar: number | undefined;
  const server = createServer((request, response) => {
    if (request.url === "/generate" && tokensPerChar !== undefined) {
      let body = "";
      request.on("data", (chunk) => {
        body += chunk;
      });
      request.on("end", () => {
        const given = Math.round((JSON.parse(body) as { inputs: string }).inputs.length * (tokensPerChar ?? 0));
        const error = `Input validation error: \`inputs\` must have less than 1024 tokens. Given: ${given}`;
        response.writeHead(422, { "content-type": "application/json" }).end(JSON.stringify({ error }));
      });
    } else if (request.url === "/info")
      response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(info));
    else response.writeHead(404).end();
  });
  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => {
    server.close();
  });

  it("reads max_input_tokens and max_total_tokens from /info", async () => {
    const limit = await readTgiPromptLimit(`${url}/`, 1000);
    expect(limit).toMatchObject({ maxInputTokens: 1024, maxTotalTokens: 2048 });
    expect(limit?.countInputTokens({ prompt: "x".repeat(400) })).toBe(100);
  });

  it("calibrates the estimate on the service's tokenizer from the 422 of an overlong probe", async () => {
    // A tokenizer with 1 token per character (the tiny generated test models come close).
    tokensPerChar = 1;
    try {
      const limit = await readTgiPromptLimit(url, 1000);
      const count = limit?.countTokens;
      expect(count?.("x".repeat(300))).toBeGreaterThanOrEqual(300);
      expect(limit?.countInputTokens({ prompt: "x".repeat(300) })).toBe(count?.("x".repeat(300)));
    } finally {
      tokensPerChar = undefined;
    }
  });

  it("falls back to max_input_length, and gives up on services that do not say", async () => {
    info = { max_input_length: 512 };
    expect(await readTgiPromptLimit(url, 1000)).toMatchObject({ maxInputTokens: 512 });
    info = { model_id: "x" };
    expect(await readTgiPromptLimit(url, 1000)).toBeUndefined();
    expect(await readTgiPromptLimit("sagemaker:endpoint", 1000)).toBeUndefined();
  });

  it("estimates chat input with a per-message allowance", () => {
    expect(
      estimateInputTokens({
        messages: [
          { role: "system", content: "abcd" },
          { role: "user", content: "abcdefgh" },
        ],
      }),
    ).toBe(1 + 8 + 2 + 8);
  });
});

describe("lateLearnedPromptLimit", () => {
  it("has no limit until learned, asks again at most every retryMs, then counts with the learned limit", async () => {
    let clock = 0;
    let calls = 0;
    let answer: PromptLimit | undefined;
    const limit = lateLearnedPromptLimit(
      async () => {
        calls += 1;
        return answer;
      },
      5_000,
      () => clock,
    );
    await limit.refresh?.();
    expect(calls).toBe(1);
    expect(limit.maxInputTokens).toBe(Number.POSITIVE_INFINITY);
    expect(limit.countTokens?.("x".repeat(400))).toBe(100);
    answer = { maxInputTokens: 1024, maxTotalTokens: 2048, countInputTokens: () => 7, countTokens: () => 3 };
    clock = 1_000;
    await limit.refresh?.();
    expect(calls).toBe(1);
    clock = 6_000;
    await limit.refresh?.();
    expect(calls).toBe(2);
    expect(limit.maxInputTokens).toBe(1024);
    expect(limit.maxTotalTokens).toBe(2048);
    expect(limit.countTokens?.("anything")).toBe(3);
    expect(limit.countInputTokens({ prompt: "anything" })).toBe(7);
    clock = 20_000;
    await limit.refresh?.();
    expect(calls).toBe(2);
  });
});
