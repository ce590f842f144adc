/**
 * Grammar-constrained sampling on the native loop with several constrained requests in flight, on
 * the generated tiny chat model (random weights: the tests compare tokens, never wording).
 *  - Greedy: each of several JSON-schema requests (different grammars, with and without logit bias,
 *    repetition penalty, ignore_eos) decoded together on the native loop writes exactly what the
 *    same request writes served alone on node-llama-cpp, whose sampler constrains the whole
 *    vocabulary with the grammar before choosing.
 *  - A ban (logit bias) on every token the grammar admits is a 422-class validation error.
 *  - Seeded sampling: deterministic (the same tokens in flight in another order and alone), and
 *    every finished document parses.
 *  - On the loop itself: the grammar checks the chain's first choice alone and goes over the
 *    vocabulary only when it refuses it (the loop's counters); a grammar with token references
 *    (`<[id]>`, matched by id, not by text) is still followed.
 */
import type { Llama } from "node-llama-cpp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tinyModelPath } from "../../../gguf/index.js";
import { type EngineOutput, runToEnd } from "../../../testing/engine-output.js";
import { loadTestLlama, runLoopJob, tinyChatLoopOptions } from "../../../testing/native-loop.js";
import { jsonSchemaToGbnf } from "../../grammar/json-schema-gbnf.js";
import { toolCallsSchema } from "../../grammar/tool-call-grammar.js";
import { createLlamaCppEngine, type EngineRequest, type LlamaCppEngine } from "../engine.js";
import { createNativeLoop, type NativeGenerationLoop, nativeAddonBuilt } from "./addon.js";

const OBJECT = {
  type: "object",
  properties: {
    name: { type: "string", maxLength: 12 },
    k: { type: "integer", minimum: -5, maximum: 40 },
    tags: { type: "array", items: { type: "string", maxLength: 5 }, maxItems: 3 },
    ok: { type: ["boolean", "null"] },
  },
  required: ["name", "k", "tags"],
  additionalProperties: false,
};
const NUMBERS = { type: "array", items: { type: "number" }, minItems: 2, maxItems: 6 };
const TOOLS = toolCallsSchema(
  [
    {
      name: "get_weather",
      parameters: {
        type: "object",
        properties: { city: { type: "string", maxLength: 6 }, days: { type: "integer", minimum: 1, maximum: 7 } },
        required: ["days"],
        additionalProperties: false,
      },
    },
    { name: "now" },
  ],
  { parallel: true },
);
const ENUMS = { enum: ["alpha", "beta", 12, null, { a: [1, 2] }] };

type Case = { prompt: string; parameters: EngineRequest["parameters"] };

/** Several grammars, sampler chains and prompt lengths in flight at once. */
const GREEDY_CASES: Case[] = [
  { prompt: "Write an object", parameters: { jsonSchema: OBJECT } },
  { prompt: "Numbers please, a few of them", parameters: { jsonSchema: NUMBERS } },
  { prompt: "Call a tool", parameters: { jsonSchema: TOOLS } },
  { prompt: "Pick one", parameters: { jsonSchema: ENUMS } },
  // Bans that often hit the model's first choice: space and the digits 1–9 (generated vocabulary:
  // 5 special tokens, 256 bytes, then the space and the ASCII characters 33–126).
  {
    prompt: "Write an object without spaces",
    parameters: {
      jsonSchema: OBJECT,
      logitBias: Object.fromEntries(
        [261, ...Array.from({ length: 9 }, (_, digit) => 262 + 16 + digit)].map((id) => [id, -100]),
      ),
    },
  },
  { prompt: "Numbers with a bias", parameters: { jsonSchema: NUMBERS, logitBias: { 300: 5, 301: -3.5, 302: 2 } } },
  // ignore_eos: the document, then the newlines the grammar allows after it.
  { prompt: "Call a tool and go on", parameters: { jsonSchema: TOOLS, ignoreEos: true, maxNewTokens: 96 } },
  { prompt: "An object, no repeats", parameters: { jsonSchema: OBJECT, repetitionPenalty: 1.3 } },
];

const SAMPLED_CASES: Case[] = [
  { prompt: "Write an object", parameters: { jsonSchema: OBJECT, temperature: 1.2, seed: 11 } },
  { prompt: "Numbers please", parameters: { jsonSchema: NUMBERS, temperature: 0.8, seed: 12, topK: 40 } },
  { prompt: "Call a tool", parameters: { jsonSchema: TOOLS, temperature: 1, seed: 13, topP: 0.9 } },
  { prompt: "Pick one", parameters: { jsonSchema: ENUMS, temperature: 1.5, seed: 14, repetitionPenalty: 1.2 } },
];

function generate(engine: LlamaCppEngine, { prompt, parameters }: Case): Promise<EngineOutput> {
  return runToEnd(engine, { input: { prompt }, parameters: { maxNewTokens: 64, ...parameters } });
}

/** Finished documents parse (the grammar allows newlines after the document). */
function expectDocuments(outputs: EngineOutput[]): void {
  for (const output of outputs) {
    if (output.reason === "length") continue;
    expect(() => JSON.parse(output.text)).not.toThrow();
  }
}

describe.skipIf(!nativeAddonBuilt())("grammar-constrained sampling on the native loop, several in flight", () => {
  const PARALLEL = 4;
  let native: LlamaCppEngine;
  let reference: LlamaCppEngine;
  beforeAll(async () => {
    const modelPath = await tinyModelPath("chat");
    native = await createLlamaCppEngine({ modelPath, backend: "native", threads: 1, parallel: PARALLEL });
    reference = await createLlamaCppEngine({ modelPath, backend: "node-llama-cpp", threads: 1, parallel: 1 });
  });
  afterAll(async () => {
    await native?.dispose();
    await reference?.dispose();
  });

  it("greedy: each request decoded together with others writes what it writes alone on node-llama-cpp", async () => {
    const alone: EngineOutput[] = [];
    for (const request of GREEDY_CASES) alone.push(await generate(reference, request));
    expectDocuments(alone);
    expect(alone.filter((output) => output.reason !== "length").length).toBeGreaterThan(0);
    const together: EngineOutput[] = [];
    for (let first = 0; first < GREEDY_CASES.length; first += PARALLEL) {
      const batch = GREEDY_CASES.slice(first, first + PARALLEL);
      together.push(...(await Promise.all(batch.map((request) => generate(native, request)))));
    }
    expect(together.map((output) => output.tokens)).toEqual(alone.map((output) => output.tokens));
    // The other batching: each request with three different ones.
    const order = [1, 4, 6, 3, 0, 7, 2, 5];
    const reordered: EngineOutput[] = new Array(GREEDY_CASES.length);
    for (let first = 0; first < order.length; first += PARALLEL) {
      const indexes = order.slice(first, first + PARALLEL);
      const outputs = await Promise.all(indexes.map((index) => generate(native, GREEDY_CASES[index] as Case)));
      indexes.forEach((index, position) => {
        reordered[index] = outputs[position] as EngineOutput;
      });
    }
    expect(reordered.map((output) => output.tokens)).toEqual(alone.map((output) => output.tokens));
  });

  it("a ban on every token the grammar admits fails the request as the client's mistake, not the engine's", async () => {
    // A JSON string must open with '"': its character token (263) and its byte token (39), banned.
    const request: Case = {
      prompt: "Say x",
      parameters: { jsonSchema: { enum: ["x"] }, logitBias: { 263: -100, 39: -100 } },
    };
    await expect(generate(native, request)).rejects.toMatchObject({
      code: "validation_error",
      message: expect.stringContaining("admits no token that logit_bias and ignore_eos allow"),
    });
    // The engine goes on serving.
    const output = await generate(native, { prompt: "Say x", parameters: { jsonSchema: { enum: ["x"] } } });
    expect(JSON.parse(output.text)).toBe("x");
  });

  it("seeded sampling: the same tokens in flight in any order and alone; finished documents parse", async () => {
    const together = await Promise.all(SAMPLED_CASES.map((request) => generate(native, request)));
    const reversed = await Promise.all([...SAMPLED_CASES].reverse().map((request) => generate(native, request)));
    const alone: EngineOutput[] = [];
    for (const request of SAMPLED_CASES) alone.push(await generate(native, request));
    expect(reversed.reverse().map((output) => output.tokens)).toEqual(together.map((output) => output.tokens));
    expect(alone.map((output) => output.tokens)).toEqual(together.map((output) => output.tokens));
    expectDocuments(together);
  });
});

describe.skipIf(!nativeAddonBuilt())("grammar sampling in the native loop", () => {
  let llama: Llama;
  let loop: NativeGenerationLoop;
  beforeAll(async () => {
    llama = await loadTestLlama();
    loop = await createNativeLoop(
      await tinyChatLoopOptions({
        contextSize: 256,
        sequences: 3,
        batchSize: 64,
      }),
    );
  });
  afterAll(async () => {
    loop?.dispose();
    await llama?.dispose();
  });

  it("checks the first choice alone and goes over the vocabulary only when the grammar refuses it", async () => {
    const before = loop.stats();
    const grammar = jsonSchemaToGbnf(OBJECT);
    const outcomes = await Promise.all(
      [
        [1, 300, 301, 302],
        [1, 310, 311],
        [1, 320, 321, 322, 323],
      ].map((prompt, slot) => runLoopJob(loop, slot, prompt, { maxTokens: 40, grammar, cachePrompt: false })),
    );
    for (const outcome of outcomes) expect(outcome.done).not.toBe("error");
    const after = loop.stats();
    const sampled = outcomes.reduce((sum, outcome) => sum + outcome.tokens.length, 0);
    const retries = after.grammarRetries - before.grammarRetries;
    expect(after.grammarTokens - before.grammarTokens).toBe(sampled);
    // Random weights: the grammar refuses the model's first choice often (structure, digits), not always.
    expect(retries).toBeGreaterThan(0);
    expect(retries).toBeLessThan(sampled);
  });

  it("follows a grammar with a token reference, matched by id", async () => {
    // 400: a word of the generated vocabulary (its text starts with a space, as the space token's does).
    const outcome = await runLoopJob(loop, 0, [1, 330, 331], {
      maxTokens: 8,
      grammar: 'root ::= "x" <[400]> "y"',
      cachePrompt: false,
    });
    expect(outcome.error).toBeUndefined();
    expect(outcome.tokens).toContain(400);
    expect(outcome.tokens.indexOf(400)).toBe(1);
  });
});
