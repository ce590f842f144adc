/**
 * Fuzz: random schemas mixing every supported keyword (and contradictory or unenforceable
 * combinations) are either refused with a 422 `validation_error`, or every random derivation of
 * their grammar (src/testing/gbnf-matcher.ts, no model) parses and validates with ajv 2020-12 and
 * full formats. Fixed seeds, so a failure reproduces.
 */
import { Ajv2020 } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import { describe, expect, it } from "vitest";
import { AppError } from "../../errors/index.js";
import { gbnfSample } from "../../testing/gbnf-matcher.js";
import { jsonSchemaToGbnf } from "./json-schema-gbnf.js";

type Json = Record<string, unknown>;

function generator(seed: number) {
  let state = seed;
  const random = () => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return state / 2 ** 31;
  };
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const bound = () => pick([0, 1, -1, 0.5, -2.5, 3, 10, 100, -100, 0.1, 0.3, 1e-7, 1e15, 7, 2.25, -0.1, 99.99]);
  const schema = (depth: number): Json | boolean => {
    const kind = pick([
      "integer",
      "number",
      "string",
      "array",
      "object",
      "enum",
      "any",
      "anyOf",
      "oneOf",
      "allOf",
      "nullable",
      "boolean",
    ]);
    if (depth > 3 && ["array", "object", "anyOf", "oneOf", "allOf", "nullable"].includes(kind))
      return { type: "integer" };
    const result: Json = {};
    switch (kind) {
      case "integer":
      case "number":
        result.type = kind;
        for (const keyword of ["minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"])
          if (random() < 0.3) result[keyword] = bound();
        if (random() < 0.2) result.multipleOf = pick([2, 3, 0.5, 0.25, 10, 7, 0.1, 150]);
        if (random() < 0.1) result.format = pick(["int32", "int64", "double"]);
        return result;
      case "string": {
        result.type = "string";
        if (random() < 0.3) result.minLength = pick([0, 1, 2, 5]);
        if (random() < 0.3) result.maxLength = pick([0, 1, 3, 8, 40]);
        const textual = random();
        if (textual < 0.3)
          result.pattern = pick([
            "^a+$",
            "b",
            "^[A-Z][a-z]*$",
            "^\\d{2,4}$",
            "x|y",
            "^(ab|cd)*$",
            "^.{3}$",
            '^[^"]+$',
            "\\w+@\\w+",
          ]);
        else if (textual < 0.5)
          result.format = pick([
            "date",
            "time",
            "date-time",
            "email",
            "uuid",
            "ipv4",
            "ipv6",
            "hostname",
            "uri",
            "duration",
            "byte",
          ]);
        return result;
      }
      case "array":
        result.type = "array";
        if (random() < 0.7) result.items = schema(depth + 1);
        if (random() < 0.3) result.prefixItems = [schema(depth + 1), schema(depth + 1)];
        if (random() < 0.3) result.minItems = pick([0, 1, 2, 3]);
        if (random() < 0.3) result.maxItems = pick([0, 1, 2, 4]);
        if (random() < 0.2) result.uniqueItems = true;
        return result;
      case "object": {
        const properties: Json = {};
        for (let count = Math.floor(random() * 4); count > 0; count--)
          properties[pick(["a", "b", "c", "d"])] = schema(depth + 1);
        Object.assign(result, { type: "object", properties });
        if (random() < 0.7) result.required = Object.keys(properties).filter(() => random() < 0.6);
        if (random() < 0.2) result.required = [...((result.required as string[]) ?? []), "z"];
        if (random() < 0.5) result.additionalProperties = pick([false, true, { type: "boolean" }]);
        if (random() < 0.1) result.maxProperties = 2;
        if (random() < 0.15) result.minProperties = pick([1, 2]);
        return result;
      }
      case "enum":
        result.enum = [pick(["a", 1, null, true, 2.5, "bb"]), pick(["c", 3, false, [1], { x: 1 }])];
        if (random() < 0.5) result.type = pick(["string", "integer", "number"]);
        return result;
      case "any":
        return random() < 0.5 ? {} : true;
      case "boolean":
        return { type: "boolean" };
      case "nullable": {
        const inner = schema(depth + 1);
        if (typeof inner === "object" && typeof inner.type === "string") inner.type = [inner.type, "null"];
        return inner;
      }
      default:
        result[kind] = [schema(depth + 1), schema(depth + 1)];
        if (random() < 0.3) result.type = pick(["object", "integer", "string"]);
        return result;
    }
  };
  return { random, schema };
}

describe("random schemas: refused, or every derivation validates", () => {
  it.each([1, 2, 3])("seed %i", (seed) => {
    const ajv = new Ajv2020({ strict: false });
    (addFormats as unknown as (instance: Ajv2020) => void)(ajv);
    const { random, schema } = generator(seed);
    let accepted = 0;
    for (let index = 0; index < 250; index++) {
      const root = { type: "object", properties: { v: schema(0) }, required: ["v"] };
      let grammar: string;
      try {
        grammar = jsonSchemaToGbnf(root);
      } catch (error) {
        expect(error, JSON.stringify(root)).toBeInstanceOf(AppError);
        expect((error as AppError).code).toBe("validation_error");
        continue;
      }
      accepted++;
      const validate = ajv.compile(root);
      for (let sample = 0; sample < 10; sample++) {
        const text = gbnfSample(grammar, random);
        if (!validate(JSON.parse(text))) {
          throw new Error(`${JSON.stringify(root)} derives ${text}: ${JSON.stringify(validate.errors)}`);
        }
      }
    }
    expect(accepted).toBeGreaterThan(100);
  });
});
