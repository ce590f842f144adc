/**
 * The real `llm-twin serve-llm --engine node-llama-cpp` process: a json_schema request whose
 * logit_bias bans the token the schema needs is a 422 and the process keeps serving (it used to
 * die of an unhandled rejection). Generated tiny chat model: '"' is token 263, its byte token 39.
 */
import { afterAll, describe, expect, it } from "vitest";
import { tinyModelPath } from "../../src/gguf/index.js";
import { type CliProcess, killLeftOver, spawnServeLlm, waitForModelReady } from "../../src/testing/cli-process.js";

let cli: CliProcess | undefined;

afterAll(() => killLeftOver([cli]));

describe("llm-twin serve-llm --engine node-llama-cpp process", () => {
  it("answers a grammar + ban request with 422 and goes on serving", async () => {
    const model = await tinyModelPath("chat");
    cli = spawnServeLlm({ model, args: ["--engine", "node-llama-cpp"] });
    const running = cli;
    const baseUrl = await waitForModelReady(running, 180_000);
    const chat = (extra: object) =>
      fetch(`${baseUrl}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          messages: [{ role: "user", content: "Say x" }],
          max_tokens: 16,
          response_format: { type: "json_schema", json_schema: { name: "x", schema: { enum: ["x"] } } },
          ...extra,
        }),
      });
    const refused = await chat({ logit_bias: { "263": -100, "39": -100 } });
    expect(refused.status).toBe(422);
    expect(((await refused.json()) as { error: { message: string } }).error.message).toContain("lift the ban");
    const served = await chat({});
    expect(served.status).toBe(200);
    expect(running.child.exitCode).toBeNull();
    expect(running.output()).not.toMatch(/unhandled|Failed to accept token/i);
  });
});
