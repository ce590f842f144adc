/**
 * JSON schemas of the kinds users send for constrained output (OpenAI structured outputs' subset
 * and beyond), for the property tests of src/llm/grammar and the HTTP routes: `ACCEPTED` schemas
 * must only yield valid documents, `REFUSED` ones must be refused up front naming `keyword`.
 * `validatorFor` is the check: ajv (JSON Schema 2020-12, or draft-07 for the old tuple form) with
 * ajv-formats' full format checks.
 */
import { Ajv, type ValidateFunction } from "ajv";
import { Ajv2020 } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import { jsonSchemaToGbnf } from "../llm/grammar/json-schema-gbnf.js";
import { authorJsonSchema } from "../rag/steps/self-query.js";

export type CorpusSchema = { name: string; schema: Record<string, unknown>; draft?: "07" };

const object = (properties: Record<string, unknown>, required = Object.keys(properties)) => ({
  type: "object",
  properties,
  required,
  additionalProperties: false,
});

export const ACCEPTED: CorpusSchema[] = [
  { name: "integer", schema: object({ a: { type: "integer" } }) },
  {
    name: "integer bounds",
    schema: object({
      small: { type: "integer", minimum: -3, maximum: 3 },
      year: { type: "integer", minimum: 1900, exclusiveMaximum: 2100 },
      positive: { type: "integer", exclusiveMinimum: 0 },
      below: { type: "integer", maximum: -1000 },
    }),
  },
  {
    name: "multipleOf",
    schema: object({
      even: { type: "integer", multipleOf: 2 },
      seven: { type: "integer", minimum: 0, multipleOf: 7 },
      half: { type: "number", minimum: 0, maximum: 5, multipleOf: 0.5 },
      tens: { type: "number", multipleOf: 10, exclusiveMinimum: -100, maximum: 1000 },
    }),
  },
  {
    name: "number bounds",
    schema: object({
      n: { type: "number" },
      unit: { type: "number", minimum: 0, maximum: 1 },
      score: { type: "number", exclusiveMinimum: 0, exclusiveMaximum: 0.5 },
      temperature: { type: "number", minimum: -273.15 },
      price: { type: "number", exclusiveMinimum: 0.1, maximum: 99.99 },
    }),
  },
  {
    name: "string enum const",
    schema: object({
      color: { type: "string", enum: ["red", "green", "blue"] },
      kind: { const: "point" },
      mixed: { enum: ["x", 2, null, "é", true] },
      typedEnum: { type: "integer", enum: [1, "two", 3.5, 4] },
    }),
  },
  {
    name: "string lengths",
    schema: object({ short: { type: "string", maxLength: 3 }, word: { type: "string", minLength: 2, maxLength: 5 } }),
  },
  {
    name: "pattern",
    schema: object({
      code: { type: "string", pattern: "^[A-Z]{2}-\\d{3}$" },
      slug: { type: "string", pattern: "^[a-z0-9]+(?:-[a-z0-9]+)*$", maxLength: 12 },
      contains: { type: "string", pattern: "ab", maxLength: 8 },
      containsShort: { type: "string", pattern: "b|c", minLength: 2, maxLength: 4 },
      narrowed: { type: "string", pattern: "^a.*$", maxLength: 3, minLength: 2 },
      quote: { type: "string", pattern: '^["\\\\/]{1,3}$' },
      phone: { type: "string", pattern: "^\\+?[0-9]{3}( [0-9]{2}){2}$" },
    }),
  },
  ...(
    [
      ["date", { type: "string", format: "date" }],
      ["time", { type: "string", format: "time" }],
      ["date-time", { type: "string", format: "date-time" }],
      ["email", { type: "string", format: "email" }],
      ["uuid", { type: "string", format: "uuid" }],
      ["ipv4", { type: "string", format: "ipv4" }],
      ["hostname", { type: "string", format: "hostname" }],
      ["ipv6", { type: "string", format: "ipv6" }],
      ["uri", { type: "string", format: "uri" }],
      ["duration", { type: "string", format: "duration" }],
      ["int32", { type: "integer", format: "int32" }],
      ["int64 on a number", { type: "number", format: "int64" }],
    ] as const
  ).map(([format, schema]) => ({ name: `format ${format}`, schema: object({ v: schema }) })),
  {
    name: "arrays",
    schema: object({
      tags: { type: "array", items: { type: "string", maxLength: 3 }, minItems: 1, maxItems: 3 },
      empty: { type: "array", maxItems: 0 },
      pair: { type: "array", prefixItems: [{ type: "integer" }, { type: "boolean" }], items: false, minItems: 2 },
      headed: { type: "array", prefixItems: [{ const: "head" }], items: { type: "null" }, maxItems: 3 },
      unique: { type: "array", items: { enum: ["a", "b", "c"] }, uniqueItems: true },
      flags: { type: "array", items: { type: "boolean" }, uniqueItems: true, minItems: 1 },
    }),
  },
  {
    name: "draft-07 tuple",
    draft: "07",
    schema: { type: "array", items: [{ type: "string", maxLength: 2 }, { type: "integer" }], additionalItems: false },
  },
  {
    name: "optional properties",
    schema: {
      type: "object",
      properties: { a: { type: "integer" }, b: { type: "boolean" }, c: { type: "null" } },
      required: ["b"],
      additionalProperties: false,
    },
  },
  { name: "free object", schema: object({ free: { type: "object" } }) },
  {
    name: "property counts",
    schema: object({
      two: {
        type: "object",
        properties: { a: { type: "boolean" }, b: { type: "null" }, c: { type: "integer", minimum: 0, maximum: 9 } },
        minProperties: 2,
        maxProperties: 2,
        additionalProperties: false,
      },
      some: {
        type: "object",
        properties: { x: { type: "null" }, y: { type: "null" } },
        required: ["y"],
        minProperties: 1,
        maxProperties: 1,
      },
    }),
  },
  {
    name: "additionalProperties",
    schema: object({
      open: { type: "object", properties: { x: { type: "integer" } }, required: ["x"], additionalProperties: true },
      typedMap: { type: "object", additionalProperties: { type: "integer", minimum: 0, maximum: 9 }, maxProperties: 0 },
      closed: { type: "object", additionalProperties: false },
      undeclared: { type: "object", required: ["k"], additionalProperties: { type: "boolean" } },
    }),
  },
  { name: "typed map", schema: { type: "object", additionalProperties: { type: "integer", minimum: 0, maximum: 9 } } },
  {
    name: "nested",
    schema: object({
      user: object({
        name: { type: "string", maxLength: 4 },
        address: object({ zip: { type: "string", pattern: "^\\d{5}$" } }),
      }),
    }),
  },
  {
    name: "$defs and $ref",
    schema: {
      $defs: { point: object({ x: { type: "integer" }, y: { type: "integer" } }), id: { type: "integer", minimum: 1 } },
      ...object({ from: { $ref: "#/$defs/point" }, to: { $ref: "#/$defs/point" }, id: { $ref: "#/$defs/id" } }),
    },
  },
  {
    name: "recursive $ref",
    schema: {
      $defs: {
        node: object({
          v: { type: "integer", minimum: 0, maximum: 9 },
          next: { anyOf: [{ $ref: "#/$defs/node" }, { type: "null" }] },
        }),
      },
      $ref: "#/$defs/node",
    },
  },
  {
    name: "root recursion",
    schema: object({
      name: { type: "string", maxLength: 3 },
      children: { type: "array", items: { $ref: "#" }, maxItems: 2 },
    }),
  },
  {
    name: "anyOf",
    schema: object({
      value: {
        anyOf: [
          { type: "integer", minimum: 10, maximum: 20 },
          { type: "string", maxLength: 2 },
        ],
      },
    }),
  },
  {
    name: "anyOf beside keywords",
    schema: object({
      v: {
        type: "object",
        properties: { x: { type: "integer" } },
        required: ["x"],
        additionalProperties: false,
        anyOf: [
          { type: "string" },
          { properties: { x: { minimum: 5, maximum: 6 } } },
          { properties: { x: { const: 40 } } },
        ],
      },
    }),
  },
  {
    name: "oneOf discriminated",
    schema: object({
      shape: {
        oneOf: [
          object({ kind: { const: "circle" }, r: { type: "number", minimum: 0, maximum: 10 } }),
          object({ kind: { const: "square" }, side: { type: "integer", minimum: 1 } }),
        ],
      },
      scalar: { oneOf: [{ type: "boolean" }, { type: "string", maxLength: 2 }] },
    }),
  },
  {
    name: "allOf",
    schema: {
      allOf: [
        { type: "object", properties: { a: { type: "integer", minimum: 0 } }, required: ["a"] },
        { properties: { a: { maximum: 5 }, b: { type: "string", maxLength: 2 } }, required: ["b"] },
      ],
    },
  },
  {
    name: "$ref with siblings",
    schema: {
      $defs: { small: { type: "integer", minimum: 0, maximum: 100 } },
      ...object({ n: { $ref: "#/$defs/small", maximum: 5, description: "narrowed" } }),
    },
  },
  {
    name: "nullable",
    schema: object({
      s: { type: ["string", "null"], maxLength: 2 },
      n: { type: ["integer", "null"], minimum: 1, maximum: 3 },
      any: { anyOf: [{ type: "number", minimum: 0, maximum: 1 }, { type: "null" }] },
    }),
  },
  { name: "empty schema", schema: object({ anything: {} }) },
  { name: "boolean schemas", schema: { type: "object", properties: { yes: true, no: false }, required: ["yes"] } },
  { name: "untyped keywords", schema: object({ s: { maxLength: 2 }, n: { minimum: 1, maximum: 2 } }) },
  {
    name: "RAG self-query",
    schema: authorJsonSchema([
      { id: "a1b2", fullName: "Ada Lovelace" },
      { id: 'Zoë "Z" 9', fullName: "Zoë" },
    ]),
  },
  {
    name: "pydantic model",
    schema: {
      $defs: {
        Color: { enum: ["red", "green"], title: "Color", type: "string" },
        Item: {
          properties: {
            sku: { title: "Sku", type: "string", pattern: "^[A-Z]{3}\\d{2}$" },
            qty: { title: "Qty", type: "integer", exclusiveMinimum: 0, maximum: 99 },
          },
          required: ["sku", "qty"],
          title: "Item",
          type: "object",
        },
      },
      properties: {
        color: { $ref: "#/$defs/Color" },
        items: { items: { $ref: "#/$defs/Item" }, maxItems: 2, title: "Items", type: "array" },
        note: { anyOf: [{ type: "string", maxLength: 3 }, { type: "null" }], default: null, title: "Note" },
      },
      required: ["color", "items"],
      title: "Order",
      type: "object",
    },
  },
  {
    name: "zod schema",
    schema: {
      $schema: "http://json-schema.org/draft-07/schema#",
      type: "object",
      properties: {
        id: { type: "string", format: "uuid" },
        age: { type: "integer", exclusiveMinimum: 0, maximum: 150 },
        point: {
          type: "array",
          minItems: 2,
          maxItems: 2,
          items: [
            { type: "number", minimum: -1, maximum: 1 },
            { type: "number", minimum: -1, maximum: 1 },
          ],
        },
        scores: { type: "object", additionalProperties: { type: "number", minimum: 0, maximum: 1 }, maxProperties: 0 },
        kind: {
          anyOf: [
            { type: "string", const: "a" },
            { type: "string", const: "b" },
          ],
        },
        both: {
          allOf: [
            { type: "object", properties: { x: { type: "boolean" } }, required: ["x"] },
            { type: "object", properties: { y: { type: "null" } }, required: ["y"] },
          ],
        },
        maybe: { type: ["string", "null"], maxLength: 2 },
      },
      required: ["id", "age", "point", "scores", "kind", "both"],
      additionalProperties: false,
    },
    draft: "07",
  },
];

/** Schemas the converter must refuse, and the keyword its error names. */
export const REFUSED: { schema: Record<string, unknown>; keyword: string }[] = [
  { schema: object({ s: { type: "string", pattern: "^(?=a)" } }), keyword: "pattern" },
  { schema: object({ s: { type: "string", pattern: "(a)\\1" } }), keyword: "pattern" },
  { schema: object({ s: { type: "string", pattern: "^a{5}$", maxLength: 3 } }), keyword: "pattern" },
  { schema: object({ s: { type: "string", pattern: "\\bword" } }), keyword: "pattern" },
  { schema: object({ s: { type: "string", format: "iri" } }), keyword: "format" },
  { schema: object({ s: { type: "string", format: "date", maxLength: 5 } }), keyword: "format" },
  { schema: object({ s: { type: "array", items: { type: "string" }, uniqueItems: true } }), keyword: "uniqueItems" },
  { schema: object({ s: { type: "number", multipleOf: 0.01 } }), keyword: "multipleOf" },
  { schema: object({ s: { type: "integer", minimum: 2 ** 60 } }), keyword: "minimum" },
  { schema: object({ s: { oneOf: [{ type: "integer" }, { type: "number" }] } }), keyword: "oneOf" },
  { schema: object({ s: { not: { type: "string" } } }), keyword: "not" },
  { schema: object({ s: { type: "object", patternProperties: { "^a": {} } } }), keyword: "patternProperties" },
  { schema: object({ s: { type: "object", propertyNames: { maxLength: 2 } } }), keyword: "propertyNames" },
  { schema: object({ s: { type: "object", minProperties: 1 } }), keyword: "minProperties" },
  { schema: object({ s: { if: { type: "string" }, else: { maxLength: 1 } } }), keyword: "if" },
  { schema: object({ s: { type: "array", contains: { type: "integer" } } }), keyword: "contains" },
  { schema: object({ s: { type: "string", nullable: true } }), keyword: "nullable" },
  { schema: object({ s: { type: "integer", exclusiveMinimum: true, minimum: 0 } }), keyword: "exclusiveMinimum" },
  { schema: object({ s: { $ref: "https://example.com/schema.json" } }), keyword: "$ref" },
  { schema: object({ s: { $ref: "#/$defs/missing" } }), keyword: "$ref" },
  { schema: object({ s: { $ref: "#anchor" } }), keyword: "$ref" },
  { schema: { $defs: { loop: object({ again: { $ref: "#/$defs/loop" } }) }, $ref: "#/$defs/loop" }, keyword: "$ref" },
  { schema: { allOf: [{ type: "string" }, { type: "integer" }] }, keyword: "allOf" },
  { schema: object({ s: { type: "string", enum: ["ab", "cde"], maxLength: 1 } }), keyword: "enum" },
  { schema: { type: "object", properties: {}, required: ["a"], additionalProperties: false }, keyword: "required" },
];

/** A validator for a corpus schema: ajv 2020-12 (draft-07 for the old tuple form), full formats. */
export function validatorFor(entry: CorpusSchema): ValidateFunction {
  const ajv = entry.draft === "07" ? new Ajv({ strict: false }) : new Ajv2020({ strict: false });
  (addFormats as unknown as (ajv: Ajv | Ajv2020) => void)(ajv);
  return ajv.compile(entry.schema);
}

/** What converting `schema` throws (undefined when it converts): refusals are checked on it. */
export function conversionError(schema: Record<string, unknown> | boolean): unknown {
  try {
    jsonSchemaToGbnf(schema);
    return undefined;
  } catch (error) {
    return error;
  }
}
