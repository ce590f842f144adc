/**
 * On the node-llama-cpp engine, a grammar whose every admissible token is banned (logit_bias, or
 * ignore_eos where the grammar must end) fails that request with the native engine's 422
 * validation_error, on the request's own path: no unhandled rejection (which ends the process), no
 * request left waiting; the slot is released and the engine goes on serving, other requests in
 * flight included. Generated tiny chat model (vocabulary: 5 special tokens, 256 bytes, then the
 * space and the ASCII characters 33–126: '"' is 263, its byte token 39).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tinyModelPath } from "../../gguf/index.js";
import { type EngineOutput, runToEnd } from "../../testing/engine-output.js";
import { createLlamaCppEngine, type EngineRequest, type LlamaCppEngine } from "./engine.js";
import { GRAMMAR_DEAD_END_MESSAGE } from "./sampling-guard.js";

function generate(
  engine: LlamaCppEngine,
  prompt: string,
  parameters: EngineRequest["parameters"],
): Promise<EngineOutput> {
  return runToEnd(engine, { input: { prompt }, parameters: { maxNewTokens: 24, ...parameters } });
}

const BAN_QUOTE = { jsonSchema: { enum: ["x"] }, logitBias: { 263: -100, 39: -100 } };
const DEAD_END = { code: "validation_error", message: GRAMMAR_DEAD_END_MESSAGE };

describe("node-llama-cpp engine: a grammar dead end is the request's 422, not the process's end", () => {
  let engine: LlamaCppEngine;
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown): void => {
    unhandled.push(reason);
  };
  beforeAll(async () => {
    process.on("unhandledRejection", onUnhandled);
    engine = await createLlamaCppEngine({
      modelPath: await tinyModelPath("chat"),
      backend: "node-llama-cpp",
      threads: 1,
      parallel: 2,
    });
  });
  afterAll(async () => {
    await engine?.dispose();
    process.off("unhandledRejection", onUnhandled);
  });

  it("a ban on the token a string needs: 422 with the native engine's message, then the same schema serves", async () => {
    await expect(generate(engine, "Say x", BAN_QUOTE)).rejects.toMatchObject(DEAD_END);
    const output = await generate(engine, "Say x", { jsonSchema: { enum: ["x"] } });
    expect(JSON.parse(output.text)).toBe("x");
    expect(unhandled).toEqual([]);
  });

  it("ignore_eos where the grammar must end: 422 after the text the grammar admits", async () => {
    await expect(generate(engine, "Say x", { grammar: 'root ::= "x"', ignoreEos: true })).rejects.toMatchObject(
      DEAD_END,
    );
    const output = await generate(engine, "Say x", { grammar: 'root ::= "x"' });
    expect(output).toMatchObject({ text: "x", reason: "eos" });
    expect(unhandled).toEqual([]);
  });

  it("fails only its own request: one in flight beside it and the next ones on its slot write what they write alone", async () => {
    const normal = { maxNewTokens: 32, ignoreEos: true } as const;
    const alone = await generate(engine, "An ordinary request", normal);
    const [failed, beside] = await Promise.allSettled([
      generate(engine, "Say x", BAN_QUOTE),
      generate(engine, "An ordinary request", normal),
    ]);
    expect(failed).toMatchObject({ status: "rejected", reason: DEAD_END });
    expect(beside).toMatchObject({ status: "fulfilled", value: { tokens: alone.tokens } });
    // Both slots again (the failed one included), several times over.
    for (let round = 0; round < 2; round += 1) {
      const outputs = await Promise.all([
        generate(engine, "An ordinary request", normal),
        generate(engine, "An ordinary request", normal),
      ]);
      for (const output of outputs) expect(output.tokens).toEqual(alone.tokens);
    }
    expect(unhandled).toEqual([]);
  });
});
