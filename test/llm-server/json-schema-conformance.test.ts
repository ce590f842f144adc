/**
 * Constrained output through serve-llm's HTTP routes, on the generated random-weight model at
 * random seeds (temperature > 0): OpenAI `response_format` json_schema, TGI `grammar` {type: json}
 * and tool calls (`tool_choice: "required"`) only return documents that validate against the schema
 * (ajv 2020-12, full formats); schemas the converter cannot enforce get a 422 naming the keyword,
 * in each route's error shape, before anything is generated.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ACCEPTED, type CorpusSchema, REFUSED, validatorFor } from "../../src/testing/json-schema-corpus.js";
import { startTestService, type TestService } from "./helpers.js";

const SEEDS = [11, 12, 13, 14];
const MAX_TOKENS = 192;

function corpus(name: string): CorpusSchema {
  const entry = ACCEPTED.find((candidate) => candidate.name === name);
  if (entry === undefined) throw new Error(`no corpus schema ${name}`);
  return entry;
}

let service: TestService;
const post = (url: string, payload: object) => service.app.inject({ method: "POST", url, payload });

beforeAll(async () => {
  service = await startTestService({ contextSize: 1024 });
}, 60_000);
afterAll(async () => {
  await service?.close();
});

/** Checks every finished document; returns how many finished. */
function check(entry: CorpusSchema, outputs: { text: string; finished: boolean }[]): number {
  const validate = validatorFor(entry);
  let finished = 0;
  for (const { text, finished: done } of outputs) {
    if (!done) continue;
    finished++;
    const document = JSON.parse(text) as unknown;
    if (!validate(document)) throw new Error(`${entry.name}: ${text} → ${JSON.stringify(validate.errors)}`);
  }
  return finished;
}

describe("documents written under a JSON schema validate, on every route", () => {
  it.each(["number bounds", "format date-time", "oneOf discriminated", "recursive $ref"])(
    "OpenAI response_format json_schema: %s",
    async (name) => {
      const entry = corpus(name);
      const outputs = [];
      for (const seed of SEEDS) {
        const response = await post("/v1/chat/completions", {
          messages: [{ role: "user", content: `Write ${name}` }],
          max_tokens: MAX_TOKENS,
          temperature: 1.2,
          seed,
          response_format: { type: "json_schema", json_schema: { name: "doc", strict: true, schema: entry.schema } },
        });
        expect(response.statusCode).toBe(200);
        const choice = response.json().choices[0];
        outputs.push({ text: choice.message.content as string, finished: choice.finish_reason === "stop" });
      }
      expect(check(entry, outputs)).toBeGreaterThan(0);
    },
  );

  it.each(["integer bounds", "pattern", "arrays"])("TGI grammar {type: json}: %s", async (name) => {
    const entry = corpus(name);
    const outputs = [];
    for (const seed of SEEDS) {
      const response = await post("/generate", {
        inputs: `Write ${name}`,
        parameters: {
          max_new_tokens: MAX_TOKENS,
          do_sample: true,
          temperature: 1.2,
          seed,
          details: true,
          grammar: { type: "json", value: entry.schema },
        },
      });
      expect(response.statusCode).toBe(200);
      const body = response.json();
      outputs.push({ text: body.generated_text as string, finished: body.details.finish_reason !== "length" });
    }
    expect(check(entry, outputs)).toBeGreaterThan(0);
  });

  it.each(["multipleOf", "allOf", "$defs and $ref", "root recursion"])("tool call arguments: %s", async (name) => {
    const entry = corpus(name);
    const outputs = [];
    for (const seed of SEEDS) {
      const response = await post("/v1/chat/completions", {
        messages: [{ role: "user", content: `Call it for ${name}` }],
        max_tokens: MAX_TOKENS,
        temperature: 1.2,
        seed,
        tools: [{ type: "function", function: { name: "record", parameters: entry.schema } }],
        tool_choice: "required",
      });
      expect(response.statusCode).toBe(200);
      const choice = response.json().choices[0];
      const call = choice.message.tool_calls?.[0];
      const finished = choice.finish_reason === "tool_calls";
      if (finished) expect(call.function.name).toBe("record");
      outputs.push({ text: finished ? (call.function.arguments as string) : "", finished });
    }
    expect(check(entry, outputs)).toBeGreaterThan(0);
  });
});

describe("schemas the grammar cannot enforce are refused up front with a 422 naming the keyword", () => {
  const cases = REFUSED.slice(0, 8);

  it.each(cases.map(({ schema, keyword }) => [keyword, schema] as const))("OpenAI: `%s`", async (keyword, schema) => {
    const response = await post("/v1/chat/completions", {
      messages: [{ role: "user", content: "x" }],
      max_tokens: 4,
      response_format: { type: "json_schema", json_schema: { name: "doc", schema } },
    });
    expect(response.statusCode).toBe(422);
    expect(response.json().error.code).toBe("validation_error");
    expect(response.json().error.message).toContain(`\`${keyword}\``);
  });

  it.each(cases.map(({ schema, keyword }) => [keyword, schema] as const))("TGI: `%s`", async (keyword, schema) => {
    const response = await post("/generate", {
      inputs: "x",
      parameters: { max_new_tokens: 4, grammar: { type: "json", value: schema } },
    });
    expect(response.statusCode).toBe(422);
    expect(response.json()).toMatchObject({ error_type: "validation" });
    expect(response.json().error).toContain(`\`${keyword}\``);
  });

  it("streamed requests get the same 422 before any event (OpenAI and TGI)", async () => {
    const { schema, keyword } = REFUSED[0] as (typeof REFUSED)[number];
    const chat = await post("/v1/chat/completions", {
      stream: true,
      messages: [{ role: "user", content: "x" }],
      max_tokens: 4,
      response_format: { type: "json_schema", json_schema: { name: "doc", schema } },
    });
    expect(chat.statusCode).toBe(422);
    expect(chat.json().error.message).toContain(`\`${keyword}\``);
    const tgi = await post("/generate_stream", {
      inputs: "x",
      parameters: { max_new_tokens: 4, grammar: { type: "json", value: schema } },
    });
    expect(tgi.statusCode).toBe(422);
    expect(tgi.json().error).toContain(`\`${keyword}\``);
  });

  it("a schema llama.cpp cannot build (a $ref reaching itself before any bracket) is a 422 that says so", async () => {
    const response = await post("/v1/chat/completions", {
      messages: [{ role: "user", content: "x" }],
      max_tokens: 4,
      response_format: {
        type: "json_schema",
        json_schema: { name: "doc", schema: { anyOf: [{ $ref: "#" }, { type: "null" }] } },
      },
    });
    expect(response.statusCode).toBe(422);
    expect(response.json().error.code).toBe("validation_error");
    expect(response.json().error.message).toContain("left recursion");
  });

  it("tools: a tool whose parameters cannot be enforced", async () => {
    const { schema, keyword } = REFUSED[0] as (typeof REFUSED)[number];
    const response = await post("/v1/chat/completions", {
      messages: [{ role: "user", content: "x" }],
      max_tokens: 4,
      tools: [{ type: "function", function: { name: "record", parameters: schema } }],
      tool_choice: "required",
    });
    expect(response.statusCode).toBe(422);
    expect(response.json().error.message).toContain(`\`${keyword}\``);
  });
});
