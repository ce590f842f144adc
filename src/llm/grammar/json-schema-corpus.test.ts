/**
 * Property test over a corpus of the schemas users send (src/testing/json-schema-corpus.ts): every
 * grammar llama.cpp compiles, every finished document a random-weight model writes under it at
 * random seeds (temperature > 0) parses and validates with ajv (2020-12, full formats), most samples
 * finish within the token budget, and every schema the converter cannot enforce is refused with a
 * 422 naming the keyword.
 */
import { getLlama } from "node-llama-cpp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AppError } from "../../errors/index.js";
import { tinyModelPath } from "../../gguf/index.js";
import { testEngineBackend } from "../../testing/engine-backend.js";
import { ACCEPTED, conversionError, REFUSED, validatorFor } from "../../testing/json-schema-corpus.js";
import { createLlamaCppEngine, type LlamaCppEngine } from "../llama-cpp/engine.js";
import { jsonSchemaToGbnf } from "./json-schema-gbnf.js";

const SAMPLES_PER_SCHEMA = 6;
const PARALLEL = 4;
const MAX_NEW_TOKENS = 192;

describe("JSON schema corpus", () => {
  it("every accepted schema compiles in llama.cpp", async () => {
    const llama = await getLlama({ gpu: false });
    for (const { name, schema } of ACCEPTED) {
      const grammar = await llama.createGrammar({ grammar: jsonSchemaToGbnf(schema) });
      expect(grammar.grammar, name).toContain("root ::=");
    }
  });

  it.each(REFUSED.map(({ schema, keyword }) => [keyword, JSON.stringify(schema), schema] as const))(
    "refuses `%s` in %s with a validation error naming it",
    (keyword, _text, schema) => {
      const error = conversionError(schema);
      expect(error).toBeInstanceOf(AppError);
      expect(error).toMatchObject({ code: "validation_error", message: expect.stringContaining(`\`${keyword}\``) });
    },
  );
});

describe("JSON schema corpus: sampled documents validate (property test)", () => {
  let engine: LlamaCppEngine;
  beforeAll(async () => {
    engine = await createLlamaCppEngine({
      modelPath: await tinyModelPath("chat"),
      ...testEngineBackend(),
      threads: 1,
      parallel: PARALLEL,
      contextSize: 1024,
    });
  }, 60_000);
  afterAll(async () => {
    await engine?.dispose();
  });

  it("every finished document at random seeds validates with ajv, and most finish", async () => {
    const sample = async (entry: (typeof ACCEPTED)[number], index: number) => {
      let text = "";
      let reason = "";
      for await (const event of engine.run({
        input: { prompt: `Write ${entry.name} ${index}` },
        parameters: {
          maxNewTokens: MAX_NEW_TOKENS,
          temperature: 1 + (index % 3) * 0.25,
          seed: 7 + index * 104_729,
          jsonSchema: entry.schema,
          ...(index % 2 === 1 ? { topK: 40 } : {}),
        },
      })) {
        if (event.type === "done") {
          text = event.generatedText;
          reason = event.finishReason;
        }
      }
      return { entry, text, reason };
    };
    const jobs = ACCEPTED.flatMap((entry) =>
      Array.from({ length: SAMPLES_PER_SCHEMA }, (_, index) => ({ entry, index })),
    );
    const results: Awaited<ReturnType<typeof sample>>[] = [];
    for (let first = 0; first < jobs.length; first += PARALLEL) {
      const batch = jobs.slice(first, first + PARALLEL).map(({ entry, index }) => sample(entry, index));
      results.push(...(await Promise.all(batch)));
    }
    const finishedBySchema = new Map<string, number>();
    for (const { entry, text, reason } of results) {
      if (reason === "length") continue; // cut by max tokens: incomplete, not a grammar failure
      finishedBySchema.set(entry.name, (finishedBySchema.get(entry.name) ?? 0) + 1);
      const document = JSON.parse(text) as unknown;
      const validate = validatorFor(entry);
      if (!validate(document)) throw new Error(`${entry.name}: ${text} → ${JSON.stringify(validate.errors)}`);
    }
    const finished = [...finishedBySchema.values()].reduce((a, b) => a + b, 0);
    expect(finished).toBeGreaterThan(results.length / 2);
    for (const { name } of ACCEPTED) expect(finishedBySchema.get(name) ?? 0, name).toBeGreaterThan(0);
  }, 300_000);
});
