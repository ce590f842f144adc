/**
 * JSON schema → GBNF grammar (llama.cpp's grammar format) that admits only documents valid
 * against the schema. Numbers stay finite (at most 16 significant integer digits, 16 fraction
 * digits and a two-digit exponent), integers are `-?(0|[1-9][0-9]{0,15})`, and no whitespace is
 * generated between tokens. A keyword the grammar cannot enforce is refused with a
 * `validation_error` (HTTP 422) naming it, rather than silently ignored. Supported keywords are
 * listed in docs/llm-server.md ("Constrained output").
 */
import { AppError } from "../../errors/index.js";

type Schema = Record<string, unknown> | boolean;

/** Keywords that only annotate: accepted and ignored. */
const ANNOTATIONS = new Set([
  "title",
  "description",
  "$schema",
  "$id",
  "$comment",
  "default",
  "examples",
  "deprecated",
  "readOnly",
  "writeOnly",
  "$defs",
  "definitions",
]);
const SUPPORTED = new Set([
  "type",
  "enum",
  "const",
  "anyOf",
  "$ref",
  "properties",
  "required",
  "additionalProperties",
  "items",
  "minItems",
  "maxItems",
  "minLength",
  "maxLength",
  "minimum",
  "maximum",
  "exclusiveMinimum",
  "exclusiveMaximum",
]);
/** Widest integer range spelled out value by value when both bounds are given. */
const MAX_ENUMERATED_RANGE = 1000;

/**
 * Printable ASCII or an escape. Raw non-ASCII is left out on purpose: llama.cpp's grammar decoder
 * does not check continuation bytes, so a class such as [^"] would admit invalid UTF-8 (the model
 * writes a lead byte then ASCII), which decodes to U+FFFD and breaks lengths, even quotes.
 * Other characters come as \uXXXX escapes (surrogates left out, so each escape is one character).
 */
const CHAR = String.raw`[ !#-\[\]-~] | "\\" ["\\/bfnrt] | "\\u" ([0-9a-cA-C] hex hex hex | [dD] [0-7] hex hex | [eEfF] hex hex hex)`;
const BASE_RULES: Record<string, string> = {
  char: CHAR,
  hex: "[0-9a-fA-F]",
  string: String.raw`"\"" char* "\""`,
  integer: '"-"? ("0" | [1-9] [0-9]{0,15})',
  nonneg: '"0" | [1-9] [0-9]{0,15}',
  positive: "[1-9] [0-9]{0,15}",
  fraction: '("." [0-9]{1,16})? ([eE] [-+]? [0-9]{1,2})?',
  number: "integer fraction",
  nonnegnumber: "nonneg fraction",
  boolean: '"true" | "false"',
  null: '"null"',
  value: "object | array | string | number | boolean | null",
  object: '"{" (string ":" value ("," string ":" value)*)? "}"',
  array: '"[" (value ("," value)*)? "]"',
};

function unsupported(keyword: string, detail = "the grammar cannot enforce it"): AppError {
  return new AppError(
    "validation_error",
    `Input validation error: JSON schema keyword \`${keyword}\` is not supported (${detail}); supported: ${[...SUPPORTED].join(", ")}`,
  );
}

/** GBNF literal for a JSON value, non-ASCII written as \uXXXX escapes (see CHAR). */
function jsonLiteral(value: unknown): string {
  const json = JSON.stringify(value).replace(
    /[^\x20-\x7e]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
  return literal(json);
}

/** GBNF literal for a string. */
function literal(text: string): string {
  return `"${text
    .replace(/[\\"]/g, (c) => `\\${c}`)
    .replace(/\n/g, "\\n")
    .replace(/\r/g, "\\r")
    .replace(/\t/g, "\\t")}"`;
}

function countOf(schema: Record<string, unknown>, keyword: string): number | undefined {
  const value = schema[keyword];
  if (value === undefined) return undefined;
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0) {
    throw unsupported(keyword, "it must be a non-negative integer");
  }
  return value;
}

function repeat(item: string, min: number, max: number | undefined): string {
  if (max !== undefined && max < min) throw unsupported("maxItems", "it is below the minimum");
  return max === undefined ? `${item}{${min},}` : `${item}{${min},${max}}`;
}

export function jsonSchemaToGbnf(root: Schema): string {
  const rules = new Map<string, string>();
  const used = new Set<string>();
  const refs = new Map<string, string>();
  let counter = 0;
  const rootObject = typeof root === "object" ? root : {};

  const add = (body: string): string => {
    const name = `r${counter++}`;
    rules.set(name, body);
    return name;
  };
  const base = (name: string): string => {
    used.add(name);
    return name;
  };

  function visit(schema: Schema): string {
    if (schema === true) return base("value");
    if (schema === false) throw unsupported("false", "a schema that admits nothing");
    if (typeof schema !== "object" || schema === null || Array.isArray(schema)) {
      throw unsupported("(schema)", "a schema must be an object");
    }
    for (const keyword of Object.keys(schema)) {
      if (!SUPPORTED.has(keyword) && !ANNOTATIONS.has(keyword)) throw unsupported(keyword);
    }
    if (schema.$ref !== undefined) return visitRef(schema.$ref);
    if (schema.const !== undefined) return add(jsonLiteral(schema.const));
    if (schema.enum !== undefined) {
      if (!Array.isArray(schema.enum) || schema.enum.length === 0)
        throw unsupported("enum", "it must be a non-empty array");
      return add(schema.enum.map((value) => jsonLiteral(value)).join(" | "));
    }
    if (schema.anyOf !== undefined) {
      if (!Array.isArray(schema.anyOf) || schema.anyOf.length === 0)
        throw unsupported("anyOf", "it must be a non-empty array");
      const { anyOf, ...rest } = schema;
      if (Object.keys(rest).some((key) => !ANNOTATIONS.has(key)))
        throw unsupported("anyOf", "combined with other keywords");
      return add((anyOf as Schema[]).map(visit).join(" | "));
    }
    const type = schema.type;
    if (Array.isArray(type)) return add(type.map((t) => visitTyped(schema, t)).join(" | "));
    if (type === undefined) {
      if (Object.keys(schema).some((key) => !ANNOTATIONS.has(key)))
        throw unsupported("type", "it is required beside other keywords");
      return base("value");
    }
    return visitTyped(schema, type);
  }

  function visitRef(ref: unknown): string {
    const match = typeof ref === "string" ? /^#\/(\$defs|definitions)\/([^/]+)$/.exec(ref) : null;
    if (match === null) throw unsupported("$ref", "only #/$defs/<name> and #/definitions/<name>");
    const key = `${match[1]}/${match[2]}`;
    const known = refs.get(key);
    if (known !== undefined) return known;
    const target = (rootObject[match[1] as string] as Record<string, Schema> | undefined)?.[match[2] as string];
    if (target === undefined) throw unsupported("$ref", `${String(ref)} is not defined`);
    const name = `r${counter++}`;
    refs.set(key, name);
    rules.set(name, visit(target));
    return name;
  }

  function visitTyped(schema: Record<string, unknown>, type: unknown): string {
    switch (type) {
      case "string":
        return visitString(schema);
      case "integer":
        return visitInteger(schema);
      case "number":
        return visitNumber(schema);
      case "boolean":
      case "null":
        return base(type);
      case "array":
        return visitArray(schema);
      case "object":
        return visitObject(schema);
      default:
        throw unsupported("type", `unknown type ${JSON.stringify(type)}`);
    }
  }

  function visitString(schema: Record<string, unknown>): string {
    const min = countOf(schema, "minLength") ?? 0;
    const max = countOf(schema, "maxLength");
    if (min === 0 && max === undefined) return base("string");
    if (max !== undefined && max < min) throw unsupported("maxLength", "it is below minLength");
    base("char");
    return add(`"\\"" ${max === undefined ? `char{${min},}` : `char{${min},${max}}`} "\\""`);
  }

  function bound(schema: Record<string, unknown>, keyword: string): number | undefined {
    const value = schema[keyword];
    if (value === undefined) return undefined;
    if (typeof value !== "number" || !Number.isFinite(value)) throw unsupported(keyword, "it must be a number");
    return value;
  }

  function visitInteger(schema: Record<string, unknown>): string {
    const lowers = [bound(schema, "minimum"), bound(schema, "exclusiveMinimum")];
    const uppers = [bound(schema, "maximum"), bound(schema, "exclusiveMaximum")];
    const low = Math.max(
      lowers[0] === undefined ? -Infinity : Math.ceil(lowers[0]),
      lowers[1] === undefined ? -Infinity : Math.floor(lowers[1]) + 1,
    );
    const high = Math.min(
      uppers[0] === undefined ? Infinity : Math.floor(uppers[0]),
      uppers[1] === undefined ? Infinity : Math.ceil(uppers[1]) - 1,
    );
    if (low > high) throw unsupported("minimum", "no integer lies between minimum and maximum");
    if (high === Infinity) {
      if (low === -Infinity) return base("integer");
      if (low === 0) return base("nonneg");
      if (low === 1) return base("positive");
    } else if (low !== -Infinity && high - low <= MAX_ENUMERATED_RANGE) {
      const values: string[] = [];
      for (let n = low; n <= high; n++) values.push(literal(String(n)));
      return add(values.join(" | "));
    }
    throw unsupported(
      lowers.some((v) => v !== undefined) ? "minimum" : "maximum",
      `integer bounds are enforced for ranges of at most ${MAX_ENUMERATED_RANGE + 1} values, or minimum 0 or 1 alone`,
    );
  }

  function visitNumber(schema: Record<string, unknown>): string {
    const hasUpper = schema.maximum !== undefined || schema.exclusiveMaximum !== undefined;
    if (hasUpper) throw unsupported(schema.maximum !== undefined ? "maximum" : "exclusiveMaximum", "bounds on numbers");
    if (schema.exclusiveMinimum !== undefined) throw unsupported("exclusiveMinimum", "bounds on numbers");
    const min = bound(schema, "minimum");
    if (min === undefined) return base("number");
    if (min === 0) return base("nonnegnumber");
    throw unsupported("minimum", "on numbers only minimum 0 is enforced");
  }

  function visitArray(schema: Record<string, unknown>): string {
    const items = schema.items === undefined ? base("value") : visit(schema.items as Schema);
    const min = countOf(schema, "minItems") ?? 0;
    const max = countOf(schema, "maxItems");
    if (max === 0) {
      if (min > 0) throw unsupported("maxItems", "it is below minItems");
      return add(`"[" "]"`);
    }
    const rest = repeat(`("," ${items})`, Math.max(min - 1, 0), max === undefined ? undefined : max - 1);
    const body = `${items} ${rest}`;
    return add(min === 0 ? `"[" (${body})? "]"` : `"[" ${body} "]"`);
  }

  function visitObject(schema: Record<string, unknown>): string {
    const properties = (schema.properties ?? {}) as Record<string, Schema>;
    const listed = schema.required ?? [];
    if (!Array.isArray(listed) || listed.some((name) => typeof name !== "string")) {
      throw unsupported("required", "it must be an array of property names");
    }
    const required = new Set(listed as string[]);
    for (const name of required) {
      if (!(name in properties)) {
        throw unsupported("required", `property ${JSON.stringify(name)} is required but not described in properties`);
      }
    }
    const names = Object.keys(properties);
    if (names.length === 0) {
      const extra = schema.additionalProperties;
      if (extra === false) return add(`"{" "}"`);
      const value = extra === undefined || extra === true ? base("value") : visit(extra as Schema);
      base("string");
      return add(`"{" (string ":" ${value} ("," string ":" ${value})*)? "}"`);
    }
    // Declared properties only, in order (always valid whatever additionalProperties says).
    // first[i]: properties i.. with none written yet; next[i]: same after at least one.
    const pairs = names.map((name) => add(`${jsonLiteral(name)} ":" ${visit(properties[name] as Schema)}`));
    let first = "";
    let next = "";
    for (let i = names.length - 1; i >= 0; i--) {
      const pair = pairs[i] as string;
      const isRequired = required.has(names[i] as string);
      const nextRule = next === "" ? "" : ` ${next}`;
      const firstRule = first === "" ? "" : first;
      const newFirst = isRequired ? `${pair}${nextRule}` : `${pair}${nextRule} | ${firstRule || '""'}`;
      const newNext = isRequired ? `"," ${pair}${nextRule}` : `"," ${pair}${nextRule} | ${next || '""'}`;
      first = add(newFirst);
      next = add(newNext);
    }
    return add(`"{" ${first} "}"`);
  }

  const top = visit(root);
  // Trailing newlines (valid JSON whitespace) keep the grammar open when end of generation is
  // banned (ignore_eos): an exhausted grammar stack fails node-llama-cpp's sampler.
  const lines = [`root ::= ${top} [\n]*`];
  for (const [name, body] of rules) lines.push(`${name} ::= ${body}`);
  const pending = [...used];
  const emitted = new Set<string>();
  while (pending.length > 0) {
    const name = pending.pop() as string;
    if (emitted.has(name)) continue;
    emitted.add(name);
    const body = BASE_RULES[name] as string;
    lines.push(`${name} ::= ${body}`);
    for (const dependency of Object.keys(BASE_RULES)) {
      if (new RegExp(`(^|[ (|])${dependency}($|[ )|*?{])`).test(body)) pending.push(dependency);
    }
  }
  return `${lines.join("\n")}\n`;
}
