/**
 * JSON schema → GBNF grammar (llama.cpp's grammar format) that admits only documents valid
 * against the schema. Numbers are finite and bounded exactly (gbnf-numbers.ts), strings follow
 * `pattern` and `format` (gbnf-regex.ts, gbnf-formats.ts), `allOf` is merged and `oneOf` must have
 * disjoint alternatives (schema-combine.ts), and no whitespace is generated between tokens. A
 * keyword the grammar cannot enforce is refused with a `validation_error` (HTTP 422) naming it,
 * rather than silently ignored; so is a schema whose documents could never end. Supported keywords
 * are listed in docs/llm-service.md ("Constrained output").
 */
import { arrayShape, uniqueArrayGrammar } from "./gbnf-arrays.js";
import { isNumberFormat, stringFormatPattern, withNumberFormat } from "./gbnf-formats.js";
import { numericGrammar } from "./gbnf-numbers.js";
import { propertySequence } from "./gbnf-objects.js";
import { patternGbnf } from "./gbnf-regex.js";
import { quantified } from "./gbnf-repeat.js";
import { nonTerminatingRules } from "./gbnf-termination.js";
import { ANNOTATIONS, disjoint, mergeSchemas, type Schema, setOwn } from "./schema-combine.js";
import { SUPPORTED_KEYWORDS, unsupported } from "./schema-error.js";
import { admittedValues } from "./schema-values.js";

type SchemaObject = Record<string, unknown>;

const SUPPORTED = new Set<string>(SUPPORTED_KEYWORDS);
/** Deepest nesting of allOf/$ref-with-siblings merges (a recursive allOf ends here). */
const MAX_COMBINATION_DEPTH = 32;
const TYPE_OF_KEYWORD: Record<string, string> = {
  properties: "object",
  required: "object",
  additionalProperties: "object",
  minProperties: "object",
  maxProperties: "object",
  items: "array",
  prefixItems: "array",
  additionalItems: "array",
  minItems: "array",
  maxItems: "array",
  uniqueItems: "array",
  minLength: "string",
  maxLength: "string",
  pattern: "string",
  format: "string",
  minimum: "number",
  maximum: "number",
  exclusiveMinimum: "number",
  exclusiveMaximum: "number",
  multipleOf: "number",
};

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
  fraction: '("." [0-9]{1,16})? ([eE] [-+]? [0-9]{1,2})?',
  number: "integer fraction",
  boolean: '"true" | "false"',
  null: '"null"',
  value: "object | array | string | number | boolean | null",
  object: '"{" (string ":" value ("," string ":" value)*)? "}"',
  array: '"[" (value ("," value)*)? "]"',
};

/** GBNF literal for a JSON value, non-ASCII written as \uXXXX escapes (see CHAR). */
function jsonLiteral(value: unknown): string {
  const json = JSON.stringify(value).replace(
    /[^\x20-\x7e]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
  return `"${json.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

function countOf(schema: SchemaObject, keyword: string): number | undefined {
  const value = schema[keyword];
  if (value === undefined) return undefined;
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0) {
    throw unsupported(keyword, "it must be a non-negative integer");
  }
  return value;
}

function isObject(schema: unknown): schema is SchemaObject {
  return typeof schema === "object" && schema !== null && !Array.isArray(schema);
}

function withoutKeys(schema: SchemaObject, keys: string[]): SchemaObject {
  return Object.fromEntries(Object.entries(schema).filter(([key]) => !keys.includes(key)));
}

function hasConstraints(schema: SchemaObject): boolean {
  return Object.keys(schema).some((key) => !ANNOTATIONS.has(key));
}

export function jsonSchemaToGbnf(root: Schema): string {
  const rules = new Map<string, string>();
  const used = new Set<string>();
  const refs = new Map<string, string>();
  let counter = 0;

  const add = (body: string): string => {
    const name = `r${counter++}`;
    rules.set(name, body);
    return name;
  };
  const base = (name: string): string => {
    used.add(name);
    return name;
  };

  function target(ref: unknown): Schema {
    if (typeof ref !== "string" || !(ref === "#" || ref.startsWith("#/")))
      throw unsupported("$ref", "only local JSON pointers (#, #/$defs/<name>, …)");
    let node: unknown = root;
    for (const segment of ref
      .slice(2)
      .split("/")
      .filter((_, index) => ref !== "#" || index > 0)) {
      let key: string;
      try {
        key = decodeURIComponent(segment).replace(/~1/g, "/").replace(/~0/g, "~");
      } catch {
        throw unsupported("$ref", `${ref} is not a valid JSON pointer`);
      }
      node =
        (isObject(node) || Array.isArray(node)) && Object.hasOwn(node, key)
          ? (node as Record<string, unknown>)[key]
          : undefined;
    }
    if (!isObject(node) && typeof node !== "boolean") throw unsupported("$ref", `${ref} is not defined`);
    return node as Schema;
  }

  /** The schema with its top-level $ref and allOf merged in (for inspection and merging). */
  function flatten(schema: Schema, depth = 0): Schema {
    if (!isObject(schema)) return schema;
    if (depth > MAX_COMBINATION_DEPTH)
      throw unsupported(
        "allOf",
        `references nested deeper than ${MAX_COMBINATION_DEPTH} levels (a recursive allOf or $ref?)`,
      );
    let result: Schema = withoutKeys(schema, ["$ref", "allOf"]);
    if (schema.$ref !== undefined) result = mergeSchemas(result, flatten(target(schema.$ref), depth + 1));
    if (schema.allOf !== undefined) {
      if (!Array.isArray(schema.allOf) || schema.allOf.length === 0)
        throw unsupported("allOf", "it must be a non-empty array");
      for (const member of schema.allOf as Schema[]) result = mergeSchemas(result, flatten(member, depth + 1));
    }
    return isObject(result) && (result.allOf !== undefined || result.$ref !== undefined)
      ? flatten(result, depth + 1)
      : result;
  }

  function visit(schema: Schema): string {
    if (schema === true) return base("value");
    if (schema === false) throw unsupported("false", "a schema that admits nothing");
    if (!isObject(schema)) throw unsupported("(schema)", "a schema must be an object or a boolean");
    for (const keyword of Object.keys(schema)) {
      if (!SUPPORTED.has(keyword) && !ANNOTATIONS.has(keyword)) throw unsupported(keyword);
    }
    if (schema.$ref !== undefined && !hasConstraints(withoutKeys(schema, ["$ref"]))) return visitRef(schema.$ref);
    if (schema.$ref !== undefined || schema.allOf !== undefined) {
      const merged = flatten(schema);
      if (merged === false)
        throw unsupported("allOf", "its members (with the keywords beside them) admit no document in common");
      return visit(merged);
    }
    if (schema.anyOf !== undefined && schema.oneOf !== undefined)
      throw unsupported("oneOf", "beside anyOf (nest one in allOf)");
    const keyword = schema.anyOf !== undefined ? "anyOf" : schema.oneOf !== undefined ? "oneOf" : undefined;
    if (keyword !== undefined) return visitAlternatives(schema, keyword);
    if (schema.enum !== undefined || schema.const !== undefined) {
      return add(admittedValues(schema).map(jsonLiteral).join(" | "));
    }
    const type =
      schema.type ??
      Object.keys(schema)
        .map((key) => (Object.hasOwn(TYPE_OF_KEYWORD, key) ? TYPE_OF_KEYWORD[key] : undefined))
        .find((t) => t !== undefined);
    if (type === undefined) return base("value");
    if (Array.isArray(type)) {
      if (type.length === 0) throw unsupported("type", "an empty list admits nothing");
      return add([...new Set(type)].map((t) => visitTyped(schema, t)).join(" | "));
    }
    return visitTyped(schema, type);
  }

  function visitAlternatives(schema: SchemaObject, keyword: "anyOf" | "oneOf"): string {
    const list = schema[keyword];
    if (!Array.isArray(list) || list.length === 0) throw unsupported(keyword, "it must be a non-empty array");
    const rest = withoutKeys(schema, [keyword]);
    const alternatives = (list as Schema[])
      .map((alternative) => (hasConstraints(rest) ? { allOf: [rest, alternative] } : alternative))
      .filter((alternative) => flatten(alternative) !== false);
    if (alternatives.length === 0) throw unsupported(keyword, "none of its alternatives admits a document");
    if (keyword === "oneOf") {
      for (let i = 0; i < alternatives.length; i++) {
        for (let j = i + 1; j < alternatives.length; j++) {
          if (!disjoint(alternatives[i] as Schema, alternatives[j] as Schema, (s) => flatten(s))) {
            throw unsupported(
              "oneOf",
              `alternatives ${i} and ${j} may both match one document; give them different types, const values or required properties, or use anyOf`,
            );
          }
        }
      }
    }
    return add(alternatives.map(visit).join(" | "));
  }

  function visitRef(ref: unknown): string {
    const key = String(ref);
    const known = refs.get(key);
    if (known !== undefined) return known;
    const schema = target(ref);
    const name = `r${counter++}`;
    refs.set(key, name);
    rules.set(name, visit(schema));
    return name;
  }

  function visitTyped(schema: SchemaObject, type: unknown): string {
    switch (type) {
      case "string":
        return visitString(schema);
      case "integer":
      case "number": {
        const format = isNumberFormat(schema.format) ? schema : withoutKeys(schema, ["format"]);
        // int32/int64 are integer formats (ajv-formats checks Number.isInteger) even on "number".
        const integral = schema.format === "int32" || schema.format === "int64" ? "integer" : type;
        const grammar = numericGrammar(withNumberFormat(format), integral, add);
        return grammar === "number" ? base("number") : grammar;
      }
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

  function visitString(schema: SchemaObject): string {
    const min = countOf(schema, "minLength") ?? 0;
    const max = countOf(schema, "maxLength");
    if (max !== undefined && max < min) throw unsupported("maxLength", "it is below minLength");
    const format =
      schema.format === undefined || isNumberFormat(schema.format) ? undefined : stringFormatPattern(schema.format);
    if (format !== undefined && schema.pattern !== undefined) throw unsupported("pattern", "beside format");
    if (schema.pattern !== undefined && typeof schema.pattern !== "string")
      throw unsupported("pattern", "it must be a string");
    const source = format ?? (schema.pattern as string | undefined);
    base("char");
    if (source !== undefined) {
      const keyword = format === undefined ? "pattern" : "format";
      const compiled = patternGbnf(source, "char", { minLength: min, maxLength: max ?? Infinity, keyword });
      return add(`"\\"" ${compiled} "\\""`);
    }
    if (min === 0 && max === undefined) return base("string");
    return add(`"\\"" ${quantified("char", min, max)} "\\""`);
  }

  function visitArray(schema: SchemaObject): string {
    const { tuple, rest } = arrayShape(schema);
    const min = countOf(schema, "minItems") ?? 0;
    let max = countOf(schema, "maxItems");
    const cut = tuple.findIndex((item) => flatten(item) === false);
    if (cut >= 0) max = Math.min(max ?? cut, cut);
    if (rest !== undefined && flatten(rest) === false) max = Math.min(max ?? tuple.length, tuple.length);
    if (max !== undefined && max < min)
      throw unsupported("maxItems", "no array length satisfies minItems, maxItems and the item schemas");
    if (max === 0) return add(`"[" "]"`);
    if (schema.uniqueItems === true && (max === undefined || max > 1)) return visitUniqueArray(tuple, rest, min, max);
    const restRule = rest === undefined || flatten(rest) !== false ? visit(rest ?? true) : '""';
    const elements = tuple.slice(0, max ?? tuple.length).map(visit);
    const tail = (index: number): string => {
      if (max !== undefined && index >= max) return '""';
      if (index >= tuple.length) {
        return quantified(`("," ${restRule})`, Math.max(min - index, 0), max === undefined ? undefined : max - index);
      }
      const next = `"," ${elements[index]} ${tail(index + 1)}`;
      return index >= min ? `(${next})?` : next;
    };
    const body = `${elements[0] ?? restRule} ${tail(1)}`;
    // An optional body is its own rule: llama.cpp refuses to repeat (even `?`) a group holding ~2,000 rules.
    return add(min === 0 ? `"[" ${add(body)}? "]"` : `"[" ${body} "]"`);
  }

  /** Arrays of distinct values from a small enum: one rule per set of values already written. */
  function visitUniqueArray(tuple: Schema[], rest: Schema | undefined, min: number, max: number | undefined): string {
    const items = rest === undefined ? true : flatten(rest);
    const values =
      tuple.length > 0 || !isObject(items)
        ? undefined
        : items.enum !== undefined || items.const !== undefined
          ? admittedValues(items)
          : items.type === "boolean"
            ? [true, false]
            : undefined;
    if (values === undefined) {
      throw unsupported("uniqueItems", "enforced only with maxItems ≤ 1 or items an enum, a const or booleans");
    }
    return uniqueArrayGrammar(values.map(jsonLiteral), min, max, add);
  }

  function visitObject(schema: SchemaObject): string {
    const properties = { ...((schema.properties ?? {}) as Record<string, Schema>) };
    const listed = schema.required ?? [];
    if (!Array.isArray(listed) || listed.some((name) => typeof name !== "string")) {
      throw unsupported("required", "it must be an array of property names");
    }
    const required = new Set(listed as string[]);
    const extra = (schema.additionalProperties ?? true) as Schema;
    for (const name of required) {
      if (Object.hasOwn(properties, name)) continue;
      if (flatten(extra) === false) {
        throw unsupported(
          "required",
          `property ${JSON.stringify(name)} is required but additionalProperties is false and properties does not describe it`,
        );
      }
      setOwn(properties, name, extra);
    }
    for (const [name, property] of Object.entries(properties)) {
      if (flatten(property) !== false) continue;
      if (required.has(name))
        throw unsupported("required", `property ${JSON.stringify(name)} is required but its schema is false`);
      delete properties[name];
    }
    const names = Object.keys(properties);
    const minProperties = countOf(schema, "minProperties") ?? 0;
    const maxProperties = countOf(schema, "maxProperties");
    if (names.length === 0) {
      if (minProperties > 0) throw unsupported("minProperties", "enforced only on objects with declared properties");
      if (maxProperties === 0 || flatten(extra) === false) return add(`"{" "}"`);
      if (maxProperties !== undefined)
        throw unsupported("maxProperties", "enforced only on objects with declared properties");
      const value = visit(extra);
      base("string");
      return add(`"{" (string ":" ${value} ("," string ":" ${value})*)? "}"`);
    }
    // Declared properties only, in order (always valid whatever additionalProperties says).
    const pairs = names.map((name) => add(`${jsonLiteral(name)} ":" ${visit(properties[name] as Schema)}`));
    const counted = propertySequence(
      pairs.map((pair, index) => ({ pair, required: required.has(names[index] as string) })),
      { min: minProperties, max: maxProperties ?? names.length },
      add,
    );
    return add(`"{" ${counted} "}"`);
  }

  const top = visit(root);
  const stuck = nonTerminatingRules(rules);
  if (stuck.length > 0) {
    throw unsupported(
      "$ref",
      "the schema's recursion never ends: a required property or item always needs another level",
    );
  }
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
