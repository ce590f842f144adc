/**
 * Exactly which strings a converted grammar admits, checked without a model (src/testing/
 * gbnf-matcher.ts): numbers around their bounds, the overflowing exponent, leading zeros,
 * patterns and formats. Every admitted candidate must validate with ajv; the values a schema is
 * about (its bounds when inclusive, typical members) must be admitted.
 */
import { Ajv2020 } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import { describe, expect, it } from "vitest";
import { gbnfAccepts, gbnfSample } from "../../testing/gbnf-matcher.js";
import { ACCEPTED, validatorFor } from "../../testing/json-schema-corpus.js";
import { jsonSchemaToGbnf } from "./json-schema-gbnf.js";

const ajv = new Ajv2020({ strict: false });
(addFormats as unknown as (instance: Ajv2020) => void)(ajv);

/** Candidates around the interesting numbers: the values, ± small steps, other spellings. */
function numberCandidates(values: number[]): string[] {
  const result = new Set<string>([
    "0",
    "-0",
    "00",
    "01",
    "-01",
    "1e5",
    "1E+2",
    "40587e+12263626",
    "1.",
    ".5",
    "+1",
    "0.0",
    "-0.0",
  ]);
  for (const value of values) {
    for (const delta of [0, 1, -1, 0.5, -0.5, 0.1, -0.1, 1e-9, -1e-9, 1e-16, -1e-16, 2, -2, 7, -7, 10, -10]) {
      const candidate = value + delta;
      result.add(String(candidate));
      result.add(candidate.toFixed(2));
      if (Number.isInteger(candidate)) result.add(`${candidate}.0`);
    }
  }
  return [...result].filter((text) => !/e/i.test(text) || /^-?\d/.test(text));
}

function admitted(schema: Record<string, unknown>, candidates: string[]): string[] {
  const grammar = jsonSchemaToGbnf(schema);
  const validate = ajv.compile(schema);
  const accepted = candidates.filter((text) => gbnfAccepts(grammar, text));
  for (const text of accepted) {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      throw new Error(`${JSON.stringify(schema)} admits ${text}, which is not JSON`);
    }
    if (!validate(value))
      throw new Error(`${JSON.stringify(schema)} admits ${text}: ${ajv.errorsText(validate.errors)}`);
  }
  return accepted;
}

describe("numbers admitted by a converted grammar", () => {
  it("never admits the issue's overflowing exponent, leading zeros or unsafe integers", () => {
    const schema = {
      type: "object",
      properties: { a: { type: "integer" } },
      required: ["a"],
      additionalProperties: false,
    };
    const grammar = jsonSchemaToGbnf(schema);
    expect(gbnfAccepts(grammar, '{"a":40587e+12263626}')).toBe(false);
    expect(gbnfAccepts(grammar, '{"a":40587}')).toBe(true);
    for (const text of ["01", "-0", "1.5", "1e3", "9007199254740992", "-9007199254740992"]) {
      expect(gbnfAccepts(jsonSchemaToGbnf({ type: "integer" }), text), text).toBe(false);
    }
    for (const text of ["0", "-1", "9007199254740991", "-9007199254740991", "120"]) {
      expect(gbnfAccepts(jsonSchemaToGbnf({ type: "integer" }), text), text).toBe(true);
    }
    const number = jsonSchemaToGbnf({ type: "number" });
    expect(gbnfAccepts(number, "1e99")).toBe(true);
    expect(gbnfAccepts(number, "1e999")).toBe(false);
    expect(gbnfAccepts(number, "007")).toBe(false);
  });

  it.each([
    [{ type: "integer", minimum: -3, maximum: 3 }, [-3, 3]],
    [{ type: "integer", exclusiveMinimum: 0, exclusiveMaximum: 100 }, [1, 99]],
    [{ type: "integer", minimum: 1900, maximum: 2099 }, [1900, 2099]],
    [{ type: "integer", maximum: -1000 }, [-1000]],
    [{ type: "integer", minimum: 2.5, maximum: 7.5 }, [3, 7]],
    [{ type: "integer", multipleOf: 7, minimum: -30, maximum: 30 }, [-28, 0, 28]],
    [{ type: "integer", multipleOf: 250, minimum: 0, maximum: 100_000 }, [0, 250, 100_000]],
    [{ type: "number", minimum: 0, maximum: 1 }, [0, 1, 0.5]],
    [{ type: "number", minimum: -273.15 }, [-273.15, 0]],
    [{ type: "number", exclusiveMinimum: 0.1, maximum: 99.99 }, [99.99, 0.2]],
    [{ type: "number", exclusiveMinimum: 0, exclusiveMaximum: 0.5 }, [0.25, 0.49]],
    [{ type: "number", minimum: 0, maximum: 5, multipleOf: 0.5 }, [0, 2.5, 5]],
    [{ type: "number", minimum: 1e-7, maximum: 2e-7 }, [1.5e-7]],
    [{ type: "number", exclusiveMaximum: 1e15, minimum: 1e15 - 1 }, [1e15 - 1]],
  ])("%j admits only valid numbers, among them %j", (schema, expected) => {
    const expectedTexts = expected.map((value) =>
      Math.abs(value) < 1e-6 && value !== 0 ? value.toFixed(10) : String(value),
    );
    const accepted = admitted(schema, [...numberCandidates(expected), ...expectedTexts]);
    for (const text of expectedTexts) expect(accepted, text).toContain(text);
  });
});

describe("property names that are also Object.prototype names", () => {
  it("are written when required, and never read from the prototype", () => {
    const schema = {
      type: "object",
      properties: { toString: { type: "boolean" } },
      required: ["toString", "constructor"],
      additionalProperties: { type: "null" },
    };
    const grammar = jsonSchemaToGbnf(schema);
    expect(gbnfAccepts(grammar, '{"toString":true,"constructor":null}')).toBe(true);
    expect(gbnfAccepts(grammar, '{"toString":true}')).toBe(false);
    expect(() => jsonSchemaToGbnf({ type: "string", format: "constructor" })).toThrow(/`format`/);
    expect(() => jsonSchemaToGbnf({ $ref: "#/$defs/__proto__", $defs: {} })).toThrow(/`\$ref`/);
  });
});

describe("strings admitted by a converted grammar", () => {
  // Non-ASCII as \uXXXX escapes: how the grammar writes it.
  const json = (text: string) =>
    JSON.stringify(text).replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);

  it.each([
    [{ type: "string", pattern: "^[A-Z]{2}-\\d{3}$" }, ["AB-123"], ["ab-123", "AB-12", "AB-1234", "xAB-123"]],
    [{ type: "string", pattern: "ab" }, ["ab", "xaby", "a b ab"], ["a", "ba", ""]],
    [{ type: "string", pattern: "^a.*$", maxLength: 3 }, ["a", "abc"], ["abcd", "ba"]],
    [{ type: "string", pattern: '^["\\\\]+$' }, ['"', "\\", '"\\'], ["a", ""]],
    [{ type: "string", pattern: "^[^a-z]{2}$" }, ["AB", "1!"], ["ab", "A"]],
    [{ type: "string", pattern: '^a"b\\\\c\\u00e9$' }, ['a"b\\cé'], ['a"b\\c', "ab\\cé", "a"]],
    [{ type: "string", pattern: "^[\\D][^\\W]$" }, ["a1", "-_"], ["1a", "a-"]],
    [{ type: "string", format: "date" }, ["2024-02-28", "1999-12-31"], ["2024-02-30", "2024-13-01", "24-01-01"]],
    [
      { type: "string", format: "date-time" },
      ["2024-01-01T10:00:00Z", "2024-01-01T23:59:59.5+02:00"],
      ["2024-01-01 10:00"],
    ],
    [{ type: "string", format: "email" }, ["a.b@example.com"], ["@example.com", "a@b", "a b@c.de"]],
    [
      { type: "string", format: "uuid" },
      ["123e4567-e89b-42d3-a456-426614174000"],
      ["123e4567e89b42d3a456426614174000"],
    ],
    [{ type: "string", format: "ipv4" }, ["192.168.0.1", "0.0.0.0"], ["256.1.1.1", "01.1.1.1", "1.1.1"]],
    [{ type: "string", minLength: 2, maxLength: 3 }, ["ab", "abc", "é!"], ["a", "abcd"]],
    [{ type: "string", format: "email", maxLength: 12 }, ["ab@cd.ef"], ["abcdefgh@ijk.lm"]],
    [
      { type: "string", pattern: "^[a-z]+(-[a-z]+)*$", minLength: 3, maxLength: 5 },
      ["abc", "abcde"],
      ["ab", "abcdef", "a-b"],
    ],
  ])("%j admits only matching strings", (schema, good, bad) => {
    const accepted = admitted(schema as Record<string, unknown>, [...good, ...bad].map(json));
    for (const text of good) expect(accepted, text).toContain(json(text));
  });
});

describe("random derivations of every corpus grammar validate", () => {
  it.each(ACCEPTED.map((entry) => [entry.name, entry] as const))("%s", (_name, entry) => {
    const grammar = jsonSchemaToGbnf(entry.schema);
    const validate = validatorFor(entry);
    let state = 12345;
    const random = () => {
      state = (state * 1103515245 + 12345) % 2 ** 31;
      return state / 2 ** 31;
    };
    for (let sample = 0; sample < 150; sample++) {
      const text = gbnfSample(grammar, random);
      const document = JSON.parse(text) as unknown;
      if (!validate(document)) throw new Error(`${text} → ${JSON.stringify(validate.errors)}`);
    }
  });
});

describe("large counts", () => {
  it("counts above llama.cpp's repetition limit (minimums and maximums) compile and count exactly", async () => {
    const { getLlama } = await import("node-llama-cpp");
    const llama = await getLlama({ gpu: false });
    for (const schema of [
      { type: "string", minLength: 2500, maxLength: 2600 },
      { type: "array", items: { const: 1 }, minItems: 2500 },
      { type: "string", pattern: "^[a-z]{3000}$" },
    ]) {
      const grammar = jsonSchemaToGbnf(schema);
      await expect(llama.createGrammar({ grammar })).resolves.toBeDefined();
    }
    const grammar = jsonSchemaToGbnf({ type: "string", minLength: 2500, maxLength: 2600 });
    for (const [length, admitted] of [
      [2499, false],
      [2500, true],
      [2600, true],
      [2601, false],
    ] as const) {
      expect(gbnfAccepts(grammar, JSON.stringify("a".repeat(length))), String(length)).toBe(admitted);
    }
    for (const [schema, length] of [
      [{ type: "string", maxLength: 5000 }, 5000],
      [{ type: "string", minLength: 3, maxLength: 3500 }, 3500],
      [{ type: "string", pattern: "^a{0,4500}$" }, 4500],
    ] as const) {
      // llama.cpp drops a maximum above 2,000 without a word (the repeat becomes unbounded).
      const grammar = jsonSchemaToGbnf(schema);
      const counts = [...grammar.matchAll(/\{(\d+)(?:,(\d*))?\}/g)].flatMap((match) => [match[1], match[2]]);
      expect(Math.max(...counts.map(Number).filter(Number.isFinite)), JSON.stringify(schema)).toBeLessThanOrEqual(2000);
      await expect(llama.createGrammar({ grammar })).resolves.toBeDefined();
      for (const [text, admitted] of [
        ["a".repeat(length), true],
        ["a".repeat(length + 1), false],
      ] as const) {
        expect(gbnfAccepts(grammar, JSON.stringify(text)), `${JSON.stringify(schema)} ${text.length}`).toBe(admitted);
      }
    }
    const upTo = jsonSchemaToGbnf({ type: "array", items: { const: 1 }, maxItems: 3000 });
    await expect(llama.createGrammar({ grammar: upTo })).resolves.toBeDefined();
    expect(gbnfAccepts(upTo, JSON.stringify(Array(3000).fill(1)))).toBe(true);
    expect(gbnfAccepts(upTo, JSON.stringify(Array(3001).fill(1)))).toBe(false);
    expect(gbnfAccepts(upTo, "[]")).toBe(true);
    const items = jsonSchemaToGbnf({ type: "array", items: { const: 1 }, minItems: 2500 });
    expect(gbnfAccepts(items, JSON.stringify(Array(2500).fill(1)))).toBe(true);
    expect(gbnfAccepts(items, JSON.stringify(Array(2499).fill(1)))).toBe(false);
  });
});
