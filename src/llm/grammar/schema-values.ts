/**
 * `enum` and `const` beside other keywords: the listed values are filtered by those keywords (type,
 * numeric bounds, multipleOf, string lengths, pattern, string format), so the grammar writes only
 * values the whole schema admits. Other keywords beside an enum are refused.
 */
import { STRING_FORMATS } from "./gbnf-formats.js";
import { ANNOTATIONS } from "./schema-combine.js";
import { unsupported } from "./schema-error.js";

function matchesType(value: unknown, type: string): boolean {
  switch (type) {
    case "null":
      return value === null;
    case "array":
      return Array.isArray(value);
    case "object":
      return typeof value === "object" && value !== null && !Array.isArray(value);
    case "integer":
      return typeof value === "number" && Number.isInteger(value);
    default:
      return typeof value === type;
  }
}

type Check = (value: unknown, limit: unknown) => boolean;
const number =
  (check: (value: number, limit: number) => boolean): Check =>
  (value, limit) =>
    typeof value !== "number" || check(value, limit as number);
const string =
  (check: (value: string, limit: unknown) => boolean): Check =>
  (value, limit) =>
    typeof value !== "string" || check(value, limit);
const length = (value: string) => [...value].length;

const CHECKS: Record<string, Check> = {
  type: (value, type) => (Array.isArray(type) ? type : [type]).some((t) => matchesType(value, String(t))),
  minimum: number((value, limit) => value >= limit),
  maximum: number((value, limit) => value <= limit),
  exclusiveMinimum: number((value, limit) => value > limit),
  exclusiveMaximum: number((value, limit) => value < limit),
  multipleOf: number((value, limit) => {
    const quotient = value / limit;
    return quotient === Number.parseInt(String(quotient), 10);
  }),
  minLength: string((value, limit) => length(value) >= (limit as number)),
  maxLength: string((value, limit) => length(value) <= (limit as number)),
  pattern: string((value, pattern) => new RegExp(String(pattern), "u").test(value)),
  format: string((value, format) => {
    const pattern = Object.hasOwn(STRING_FORMATS, String(format)) ? STRING_FORMATS[String(format)] : undefined;
    if (pattern === undefined) throw unsupported("format", `${JSON.stringify(format)} beside enum`);
    return new RegExp(pattern, "u").test(value);
  }),
};

/** The values of `enum`/`const` that every other keyword of the schema admits. */
export function admittedValues(schema: Record<string, unknown>): unknown[] {
  let values: unknown[];
  if (schema.enum !== undefined) {
    if (!Array.isArray(schema.enum) || schema.enum.length === 0)
      throw unsupported("enum", "it must be a non-empty array");
    values = schema.enum;
    if (schema.const !== undefined) {
      const text = JSON.stringify(schema.const);
      values = values.filter((value) => JSON.stringify(value) === text);
    }
  } else values = [schema.const];
  for (const [keyword, limit] of Object.entries(schema)) {
    if (keyword === "enum" || keyword === "const" || ANNOTATIONS.has(keyword)) continue;
    const check = Object.hasOwn(CHECKS, keyword) ? CHECKS[keyword] : undefined;
    if (check === undefined) throw unsupported(keyword, `beside enum or const (list only the values you want)`);
    values = values.filter((value) => check(value, limit));
  }
  if (values.length === 0) throw unsupported("enum", "none of its values satisfies the schema's other keywords");
  return values;
}
