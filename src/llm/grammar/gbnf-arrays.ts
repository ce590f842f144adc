/**
 * Array pieces of the JSON schema → GBNF converter: the tuple/rest shape of an array schema, and
 * `uniqueItems` over a small set of values (one rule per set of values already written).
 */
import type { AddRule } from "./gbnf-numbers.js";
import type { Schema } from "./schema-combine.js";
import { unsupported } from "./schema-error.js";

type SchemaObject = Record<string, unknown>;

/** Most distinct item values `uniqueItems` is enforced for (one rule per subset: 256). */
const MAX_UNIQUE_VALUES = 8;

/**
 * Positional item schemas and the schema of the items after them: 2020-12 `prefixItems` + `items`,
 * or the older tuple form `items: [...]` + `additionalItems`.
 */
export function arrayShape(schema: SchemaObject): { tuple: Schema[]; rest: Schema | undefined } {
  if (schema.prefixItems !== undefined) {
    if (!Array.isArray(schema.prefixItems)) throw unsupported("prefixItems", "it must be an array of schemas");
    if (Array.isArray(schema.items))
      throw unsupported("items", "an array beside prefixItems (use a schema for the items after them)");
    if (schema.additionalItems !== undefined) throw unsupported("additionalItems", "beside prefixItems (use items)");
    return { tuple: schema.prefixItems as Schema[], rest: schema.items as Schema | undefined };
  }
  if (Array.isArray(schema.items))
    return { tuple: schema.items as Schema[], rest: schema.additionalItems as Schema | undefined };
  if (schema.additionalItems !== undefined) throw unsupported("additionalItems", "without a tuple (items as an array)");
  return { tuple: [], rest: schema.items as Schema | undefined };
}

/** Arrays of distinct values among `literals` (GBNF literals), with minItems/maxItems. */
export function uniqueArrayGrammar(literals: string[], min: number, max: number | undefined, add: AddRule): string {
  if (literals.length > MAX_UNIQUE_VALUES) {
    throw unsupported("uniqueItems", `enforced for enums of at most ${MAX_UNIQUE_VALUES} values`);
  }
  const limit = Math.min(max ?? literals.length, literals.length);
  if (min > limit) throw unsupported("uniqueItems", "minItems is more than the number of distinct values");
  const after = new Map<number, string>();
  const follow = (mask: number, count: number): string => {
    const known = after.get(mask);
    if (known !== undefined) return known;
    const alternatives = count >= min ? ['""'] : [];
    if (count < limit) {
      literals.forEach((literal, index) => {
        if ((mask & (1 << index)) === 0) alternatives.push(`"," ${literal} ${follow(mask | (1 << index), count + 1)}`);
      });
    }
    const name = add(alternatives.join(" | "));
    after.set(mask, name);
    return name;
  };
  const first = literals.map((literal, index) => `${literal} ${follow(1 << index, 1)}`).join(" | ");
  return add(min === 0 ? `"[" (${first})? "]"` : `"[" (${first}) "]"`);
}
