/**
 * The declared properties of an object, in order, as GBNF: required ones always, optional ones or
 * not, with minProperties/maxProperties counted. Without counts it is a chain of two rules per
 * property (none written yet / some written, which decides the comma); with counts, one rule per
 * property and number written so far.
 */
import type { AddRule } from "./gbnf-numbers.js";
import { unsupported } from "./schema-error.js";

/** Most declared properties counted for minProperties/maxProperties (rules: properties × count). */
const MAX_COUNTED_PROPERTIES = 64;

export type PropertyPair = { pair: string; required: boolean };

export function propertySequence(pairs: PropertyPair[], counts: { min: number; max: number }, add: AddRule): string {
  const requiredCount = pairs.filter((pair) => pair.required).length;
  if (counts.min > pairs.length) {
    throw unsupported("minProperties", "it is more than the declared properties (list them in properties)");
  }
  if (counts.max < requiredCount) throw unsupported("maxProperties", "it is less than the required properties");
  if (counts.min <= requiredCount && counts.max >= pairs.length) return chain(pairs, add);
  if (pairs.length > MAX_COUNTED_PROPERTIES) {
    throw unsupported("minProperties", `counted on objects of at most ${MAX_COUNTED_PROPERTIES} declared properties`);
  }
  const memo = new Map<string, string | null>();
  // rest(i, written): properties i.. after `written` of the earlier ones.
  const rest = (index: number, written: number): string | null => {
    const key = `${index}:${written}`;
    if (memo.has(key)) return memo.get(key) ?? null;
    let body: string | null;
    const item = pairs[index];
    if (item === undefined) body = written >= counts.min ? '""' : null;
    else {
      const alternatives: string[] = [];
      const after = written + 1 <= counts.max ? rest(index + 1, written + 1) : null;
      if (after !== null) alternatives.push(`${written > 0 ? '"," ' : ""}${item.pair} ${after}`);
      const skipped = item.required ? null : rest(index + 1, written);
      if (skipped !== null) alternatives.push(skipped);
      body = alternatives.length === 0 ? null : add(alternatives.join(" | "));
    }
    memo.set(key, body);
    return body;
  };
  const body = rest(0, 0);
  if (body === null)
    throw unsupported("minProperties", "no set of the declared properties meets minProperties and maxProperties");
  return body;
}

/** first[i]: properties i.. with none written yet; next[i]: the same after at least one. */
function chain(pairs: PropertyPair[], add: AddRule): string {
  let first = "";
  let next = "";
  for (let i = pairs.length - 1; i >= 0; i--) {
    const { pair, required } = pairs[i] as PropertyPair;
    const nextRule = next === "" ? "" : ` ${next}`;
    first = add(required ? `${pair}${nextRule}` : `${pair}${nextRule} | ${first || '""'}`);
    next = add(required ? `"," ${pair}${nextRule}` : `"," ${pair}${nextRule} | ${next || '""'}`);
  }
  return first;
}
