/**
 * A parsed regular expression (regex-parse.ts) as GBNF: the structure (sequences, alternatives,
 * repeats, large counts in chunks via gbnf-repeat.ts) is shared; how characters are written is the
 * caller's (`RegexLeaves`): as themselves for TGI's regex grammars, as JSON string content for
 * JSON-schema `pattern`.
 */
import { quantified } from "./gbnf-repeat.js";
import { ESCAPE_SETS, type Range, type RegexNode, type SetNode } from "./regex-parse.js";

export interface RegexLeaves {
  /** GBNF for a run of literal characters (adjacent ones are written together). */
  text(codes: number[]): string;
  /** GBNF for one character of a set. */
  set(node: SetNode): string;
  /** When given, alternatives that are all single characters are written as one set (fewer rules). */
  union?: (sets: SetNode[]) => string;
}

/** `universe` minus `ranges` (in any order, possibly overlapping), sorted. */
export function complement(ranges: readonly Range[], universe: Range): Range[] {
  const result: Range[] = [];
  let next = universe[0];
  for (const [from, to] of [...ranges].sort((a, b) => a[0] - b[0])) {
    if (to < next) continue;
    if (from > universe[1]) break;
    if (from > next) result.push([next, from - 1]);
    next = Math.max(next, to + 1);
  }
  if (next <= universe[1]) result.push([next, universe[1]]);
  return result;
}

/** The characters a set matches, negations taken within `universe`. */
export function setRanges(node: SetNode, universe: Range): Range[] {
  const positive = node.items.flatMap((item): Range[] => {
    if (!("escape" in item)) return [item];
    const set = ESCAPE_SETS[item.escape];
    return item.negated ? complement(set, universe) : set;
  });
  return node.negated ? complement(positive, universe) : positive;
}

/** The node as a set when it is one character (possibly wrapped in one-item sequences). */
function singleCharacter(node: RegexNode): SetNode | undefined {
  if (node.kind === "set") return node;
  if (node.kind === "char") return { kind: "set", negated: false, items: [[node.code, node.code]] };
  return node.kind === "sequence" && node.items.length === 1 ? singleCharacter(node.items[0] as RegexNode) : undefined;
}

export function emitRegex(node: RegexNode, leaves: RegexLeaves): string {
  switch (node.kind) {
    case "char":
      return leaves.text([node.code]);
    case "set":
      return leaves.set(node);
    case "sequence": {
      const parts: string[] = [];
      let run: number[] = [];
      for (const item of node.items) {
        if (item.kind === "char") {
          run.push(item.code);
          continue;
        }
        if (run.length > 0) parts.push(leaves.text(run));
        run = [];
        parts.push(emitRegex(item, leaves));
      }
      if (run.length > 0) parts.push(leaves.text(run));
      if (parts.length === 0) return '""';
      return parts.length === 1 ? (parts[0] as string) : `(${parts.join(" ")})`;
    }
    case "alternation": {
      const singles = node.options.map(singleCharacter);
      if (leaves.union !== undefined && singles.every((set) => set !== undefined)) {
        return leaves.union(singles as SetNode[]);
      }
      return `(${node.options.map((option) => emitRegex(option, leaves)).join(" | ")})`;
    }
    case "repeat": {
      const inner = emitRegex(node.node, leaves);
      // A set takes a quantifier as it is; anything else is grouped first.
      const item = node.node.kind === "set" ? inner : `(${inner})`;
      return quantified(item, node.min, node.max === Infinity ? undefined : node.max);
    }
  }
}
