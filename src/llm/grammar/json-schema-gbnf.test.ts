/**
 * JSON schema → GBNF: the grammar compiles in llama.cpp, refuses what it cannot enforce, and —
 * property test — every document a random-weight model writes under it at random seeds validates
 * against the schema with ajv, on both engine backends, with requests of different schemas in
 * flight together.
 */
import { Ajv } from "ajv";
import { getLlama } from "node-llama-cpp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AppError } from "../../errors/index.js";
import { tinyModelPath } from "../../gguf/index.js";
import { conversionError } from "../../testing/json-schema-corpus.js";
import type { EngineBackendName } from "../llama-cpp/decode-port.js";
import { createLlamaCppEngine, type LlamaCppEngine } from "../llama-cpp/engine.js";
import { nativeAddonBuilt } from "../llama-cpp/native/addon.js";
import { jsonSchemaToGbnf } from "./json-schema-gbnf.js";
import { toolCallsSchema } from "./tool-call-grammar.js";

/** Schemas small enough that a document fits in the token budget below. */
const SCHEMAS: Record<string, Record<string, unknown>> = {
  integer: { type: "object", properties: { a: { type: "integer" } }, required: ["a"], additionalProperties: false },
  mixed: {
    type: "object",
    properties: {
      n: { type: "number" },
      k: { type: "integer", minimum: -5, maximum: 12 },
      s: { type: "string", minLength: 1, maxLength: 4 },
      e: { enum: ["x", 2, null, "é"] },
      l: { type: "array", items: { type: "integer", minimum: 0 }, minItems: 1, maxItems: 3 },
      b: { type: ["boolean", "null"] },
    },
    required: ["k", "s", "l"],
    additionalProperties: false,
  },
  tool: {
    $defs: { pos: { type: "integer", minimum: 1 } },
    anyOf: [
      { type: "object", properties: { name: { const: "search" }, top: { $ref: "#/$defs/pos" } }, required: ["name"] },
      { type: "array", items: { type: "string", maxLength: 3 }, maxItems: 2 },
    ],
  },
  // What /v1/chat/completions constrains tool calls with (tool_choice "required", parallel calls).
  toolCalls: toolCallsSchema(
    [
      {
        name: "get_weather",
        parameters: {
          type: "object",
          properties: { city: { type: "string", maxLength: 4 }, days: { type: "integer", minimum: 1, maximum: 7 } },
          required: ["days"],
          additionalProperties: false,
        },
      },
      { name: "now" },
    ],
    { parallel: true },
  ),
};

describe("jsonSchemaToGbnf", () => {
  it("builds grammars llama.cpp compiles", async () => {
    const llama = await getLlama({ gpu: false });
    for (const schema of [
      ...Object.values(SCHEMAS),
      {},
      { type: "object" },
      { type: "number", minimum: 0 },
      { type: "object", properties: { a: { type: "boolean" }, b: { type: "null" } } },
    ]) {
      const grammar = await llama.createGrammar({ grammar: jsonSchemaToGbnf(schema) });
      expect(grammar.grammar).toContain("root ::=");
    }
  });

  it("bounds integers and numbers so they stay finite", () => {
    const integer = jsonSchemaToGbnf({ type: "object", properties: { a: { type: "integer" } } });
    expect(integer).not.toMatch(/\[eE\]|"\."/); // no exponent, no fraction
    const number = jsonSchemaToGbnf({ type: "object", properties: { x: { type: "number" } } });
    expect(number).toContain(`[eE] [-+]? [0-9]{1,2}`);
  });

  it.each([
    [{ type: "string", pattern: "^(?!a)" }, "pattern"],
    [{ type: "string", pattern: `${"(".repeat(5000)}a${")".repeat(5000)}` }, "pattern"],
    [{ type: "string", format: "iri-reference" }, "format"],
    [{ oneOf: [{ type: "string" }, { type: "string", maxLength: 2 }] }, "oneOf"],
    [{ type: "integer", minimum: 5, multipleOf: 1000, maximum: 10 ** 12 }, "multipleOf"],
    [{ type: "number", maximum: 5, multipleOf: 0.1 }, "multipleOf"],
    [{ type: "array", uniqueItems: true }, "uniqueItems"],
    [{ type: "object", properties: {}, required: ["a"], additionalProperties: false }, "required"],
    [{ $ref: "#/$defs/missing" }, "$ref"],
  ])("refuses %j with a validation error naming `%s`", (schema, keyword) => {
    const error = conversionError(schema);
    expect(error).toBeInstanceOf(AppError);
    expect(error).toMatchObject({ code: "validation_error", message: expect.stringContaining(`\`${keyword}\``) });
  });
});

const BACKENDS: EngineBackendName[] = ["node-llama-cpp", "native"];
const SAMPLES_PER_SCHEMA = 24;
const PARALLEL = 4;

describe.each(BACKENDS)("grammar-constrained output on %s validates (property test)", (backend) => {
  const skip = backend === "native" && !nativeAddonBuilt();
  let engine: LlamaCppEngine;
  beforeAll(async () => {
    if (skip) return;
    engine = await createLlamaCppEngine({
      modelPath: await tinyModelPath("chat"),
      backend,
      threads: 1,
      parallel: PARALLEL,
      contextSize: 512,
    });
  });
  afterAll(async () => {
    await engine?.dispose();
  });

  it.skipIf(skip)("every finished document at random seeds validates with ajv", async () => {
    const ajv = new Ajv({ strict: false });
    const validators = new Map(Object.entries(SCHEMAS).map(([name, schema]) => [name, ajv.compile(schema)]));
    let finished = 0;
    const sample = async (name: string, index: number) => {
      let text = "";
      let reason = "";
      // Plain temperature, then with top-k, then with top-p: the native engine's grammar checks the
      // chain's choice and constrains the vocabulary only when it refuses it, truncated or not.
      const truncation = [{}, { topK: 40 }, { topP: 0.9 }][index % 3];
      for await (const event of engine.run({
        input: { prompt: `Write ${name} ${index}` },
        parameters: {
          maxNewTokens: 48,
          temperature: 1.5,
          seed: 1000 + index * 7919,
          jsonSchema: SCHEMAS[name] ?? {},
          ...truncation,
        },
      })) {
        if (event.type === "done") {
          text = event.generatedText;
          reason = event.finishReason;
        }
      }
      return { name, text, reason };
    };
    // Every step has several grammars in flight: each batch of PARALLEL requests mixes the schemas.
    const jobs = Array.from({ length: SAMPLES_PER_SCHEMA }, (_, index) =>
      Object.keys(SCHEMAS).map((name) => ({ name, index })),
    ).flat();
    const results: Array<{ name: string; text: string; reason: string }> = [];
    for (let first = 0; first < jobs.length; first += PARALLEL) {
      const batch = jobs.slice(first, first + PARALLEL).map(({ name, index }) => sample(name, index));
      results.push(...(await Promise.all(batch)));
    }
    for (const { name, text, reason } of results) {
      if (reason === "length") continue; // cut by max tokens: incomplete, not a grammar failure
      finished++;
      const document = JSON.parse(text) as unknown;
      const validate = validators.get(name);
      if (validate !== undefined && !validate(document)) {
        throw new Error(`${name}: ${text} → ${ajv.errorsText(validate.errors)}`);
      }
    }
    expect(finished).toBeGreaterThan(0);
  });
});
