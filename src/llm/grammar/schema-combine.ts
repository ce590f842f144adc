/**
 * `allOf` as one schema (the intersection of its members' keywords), and the check that lets
 * `oneOf` be written as `anyOf`: its alternatives must be provably disjoint (different types,
 * disjoint `const`/`enum` values, a required property that tells them apart, or a property one
 * requires and the other forbids), otherwise a document could match two and be invalid.
 */
import { unsupported } from "./schema-error.js";

export type Schema = Record<string, unknown> | boolean;
type SchemaObject = Record<string, unknown>;

/** Keywords that only annotate: accepted and ignored. */
export const ANNOTATIONS = new Set([
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
  "contentEncoding",
  "contentMediaType",
  "discriminator",
]);

const LOWER_BOUNDS = new Set(["minimum", "exclusiveMinimum", "minLength", "minItems", "minProperties"]);
const UPPER_BOUNDS = new Set(["maximum", "exclusiveMaximum", "maxLength", "maxItems", "maxProperties"]);
const NUMBER_TYPES = new Set(["integer", "number"]);

/** Sets an own property, even one named `__proto__` (a property name in a schema is data). */
export function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

function typeList(type: unknown): string[] {
  return Array.isArray(type) ? type.map(String) : [String(type)];
}

function intersectTypes(a: unknown, b: unknown): string[] {
  const left = typeList(a);
  const right = typeList(b);
  const result = new Set<string>();
  for (const type of left) {
    if (right.includes(type)) result.add(type);
    else if (type === "integer" && right.includes("number")) result.add("integer");
    else if (type === "number" && right.includes("integer")) result.add("integer");
  }
  if (result.size === 0) throw new Impossible();
  return [...result];
}

/** Properties of `extra` that `owner` constrains by its additionalProperties. */
function constrainExtras(owner: SchemaObject, other: SchemaObject): SchemaObject {
  const additional = owner.additionalProperties;
  const known = (owner.properties ?? {}) as SchemaObject;
  const theirs = (other.properties ?? {}) as SchemaObject;
  if (additional === undefined || additional === true) return other;
  const properties: SchemaObject = {};
  const required = new Set((other.required ?? []) as string[]);
  for (const [name, schema] of Object.entries(theirs)) {
    if (Object.hasOwn(known, name)) setOwn(properties, name, schema);
    else if (additional === false) {
      if (required.has(name)) throw new Impossible(); // required by one member, forbidden by the other
    } else setOwn(properties, name, { allOf: [schema, additional] });
  }
  return { ...other, properties };
}

/** Two members no document satisfies together (types, const or enum values, a forbidden property). */
class Impossible extends Error {}

/**
 * The intersection of two schemas (neither a $ref: resolve those first); `false` when no
 * document can satisfy both, so an anyOf alternative that contradicts its siblings drops out.
 */
export function mergeSchemas(a: Schema, b: Schema): Schema {
  try {
    return intersect(a, b);
  } catch (error) {
    if (error instanceof Impossible) return false;
    throw error;
  }
}

function intersect(a: Schema, b: Schema): Schema {
  if (a === true || b === false) return b;
  if (b === true || a === false) return a;
  const left = constrainExtras(b, a);
  const right = constrainExtras(a, b);
  const result: SchemaObject = { ...left };
  for (const [key, value] of Object.entries(right)) {
    const mine = result[key];
    if (mine === undefined) result[key] = value;
    else if (ANNOTATIONS.has(key) || same(mine, value)) continue;
    else if (key === "type") result[key] = intersectTypes(mine, value);
    else if (key === "const") throw new Impossible();
    else if (LOWER_BOUNDS.has(key) && typeof mine === "number" && typeof value === "number")
      result[key] = Math.max(mine, value);
    else if (UPPER_BOUNDS.has(key) && typeof mine === "number" && typeof value === "number")
      result[key] = Math.min(mine, value);
    else if (key === "required") result[key] = [...new Set([...(mine as string[]), ...(value as string[])])];
    else if (key === "allOf") result[key] = [...(mine as Schema[]), ...(value as Schema[])];
    else if (key === "multipleOf" && Number.isInteger(mine) && Number.isInteger(value)) {
      result[key] = ((mine as number) * (value as number)) / gcd(mine as number, value as number);
    } else if (key === "enum")
      result[key] = (mine as unknown[]).filter((x) => (value as unknown[]).some((y) => same(x, y)));
    else if (key === "properties") {
      const properties: SchemaObject = { ...(mine as SchemaObject) };
      for (const [name, schema] of Object.entries(value as SchemaObject)) {
        setOwn(properties, name, Object.hasOwn(properties, name) ? { allOf: [properties[name], schema] } : schema);
      }
      result[key] = properties;
    } else if (key === "items" || key === "additionalProperties" || key === "additionalItems") {
      if (Array.isArray(mine) || Array.isArray(value)) throw unsupported("allOf", `two different tuple \`${key}\``);
      result[key] = { allOf: [mine, value] };
    } else throw unsupported("allOf", `its members give \`${key}\` two different values`);
  }
  if (Array.isArray(result.enum) && result.enum.length === 0) throw new Impossible();
  if (result.const !== undefined && Array.isArray(result.enum) && !result.enum.some((x) => same(x, result.const))) {
    throw new Impossible();
  }
  return result;
}

function jsonType(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  if (typeof value === "number") return Number.isInteger(value) ? "integer" : "number";
  return typeof value;
}

/** The JSON types a schema admits, or undefined when it does not say. */
function typesOf(schema: SchemaObject): string[] | undefined {
  if (schema.type !== undefined) return typeList(schema.type);
  if (schema.const !== undefined) return [jsonType(schema.const)];
  if (Array.isArray(schema.enum)) return schema.enum.map(jsonType);
  return undefined;
}

function valuesOf(schema: SchemaObject): unknown[] | undefined {
  if (schema.const !== undefined) return [schema.const];
  return Array.isArray(schema.enum) ? schema.enum : undefined;
}

/** Whether no document can match both schemas (conservative: false when unsure). */
export function disjoint(a: Schema, b: Schema, resolve: (schema: Schema) => Schema): boolean {
  const left = resolve(a);
  const right = resolve(b);
  if (left === false || right === false) return true;
  if (left === true || right === true) return false;
  const leftTypes = typesOf(left);
  const rightTypes = typesOf(right);
  if (leftTypes !== undefined && rightTypes !== undefined) {
    const overlap = leftTypes.some((x) =>
      rightTypes.some((y) => x === y || (NUMBER_TYPES.has(x) && NUMBER_TYPES.has(y))),
    );
    if (!overlap) return true;
  }
  const leftValues = valuesOf(left);
  const rightValues = valuesOf(right);
  if (leftValues !== undefined && rightValues !== undefined) {
    if (!leftValues.some((x) => rightValues.some((y) => same(x, y)))) return true;
  }
  const leftRequired = new Set((left.required ?? []) as string[]);
  const rightRequired = new Set((right.required ?? []) as string[]);
  const leftProperties = (left.properties ?? {}) as SchemaObject;
  const rightProperties = (right.properties ?? {}) as SchemaObject;
  for (const name of leftRequired) {
    if (!rightRequired.has(name)) {
      if (right.additionalProperties === false && !Object.hasOwn(rightProperties, name)) return true;
      continue;
    }
    const x = leftProperties[name];
    const y = rightProperties[name];
    if (x !== undefined && y !== undefined && disjoint(x as Schema, y as Schema, resolve)) return true;
  }
  for (const name of rightRequired) {
    if (!leftRequired.has(name) && left.additionalProperties === false && !Object.hasOwn(leftProperties, name))
      return true;
  }
  return false;
}
