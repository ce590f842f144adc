/**
 * A JSON-schema `pattern` (ECMAScript regular expression, unanchored unless it says `^`/`$`) as the
 * GBNF of the JSON string *content* whose decoded text matches it: `"` and `\` are written as JSON
 * escapes, control and non-ASCII characters as `\uXXXX`. Parsed by regex-parse.ts (ECMAScript
 * dialect) and written by regex-emit.ts. Supported: literals, escapes (`\d \w \s` and their
 * negations, `\t \n \r \f \v \0 \xHH \uHHHH \u{…}`), `.`, classes with ranges and negation,
 * groups (capturing, `(?:…)`, named), alternation, quantifiers `* + ? {n} {n,} {n,m}` (lazy too),
 * `^`/`$` at the ends of top-level alternatives. Anything else (lookaround, backreferences, `\b`,
 * `\p{…}`, groups nested deeper than 128) is refused. A negated class, `.` and `\S`-style escapes
 * write printable ASCII only: a subset of what they match, so every string written still matches.
 */
import { emitRegex, type RegexLeaves, setRanges } from "./regex-emit.js";
import { parseRegex, type Range, type RegexDialect, type RegexNode } from "./regex-parse.js";
import { unsupported } from "./schema-error.js";

type Node = RegexNode;

const PRINTABLE: Range = [0x20, 0x7e];
/** Most characters outside printable ASCII a class contributes (as \uXXXX escapes). */
const MAX_ESCAPED = 256;
/** How JSON writes these characters inside a string. */
const JSON_NAMES: Record<number, string> = { 8: "b", 9: "t", 10: "n", 12: "f", 13: "r", 34: '"', 92: "\\" };

function refuse(pattern: string, construct: string): Error {
  return unsupported("pattern", `${JSON.stringify(pattern)}: ${construct} cannot be enforced`);
}

function ecmascript(pattern: string): RegexDialect {
  return {
    dotExcludes: [
      [0x0a, 0x0a],
      [0x0d, 0x0d],
      [0x2028, 0x2029],
    ],
    controls: { t: 9, n: 10, v: 11, f: 12, r: 13, "0": 0 },
    syntax: "ecmascript",
    fail: (_problem, construct) => refuse(pattern, construct),
  };
}

function hex4(code: number): string {
  return code.toString(16).padStart(4, "0");
}

/** A character as written inside a JSON string (escaped unless printable ASCII), or null: none. */
function jsonText(code: number): string | null {
  const name = JSON_NAMES[code];
  if (name !== undefined) return `\\${name}`;
  if (code >= 0x20 && code <= 0x7e) return String.fromCharCode(code);
  if ((code >= 0xd800 && code <= 0xdfff) || code > 0xffff) return null;
  return `\\u${hex4(code)}`;
}

/** A GBNF string literal of `text`. */
function literal(text: string): string {
  return `"${text.replace(/["\\]/g, (char) => `\\${char}`)}"`;
}

/** GBNF for one character of `ranges`, as it is written inside a JSON string. */
function charsGbnf(ranges: Range[]): string | null {
  const classParts: string[] = [];
  const alternatives: string[] = [];
  let escaped = 0;
  const classChar = (code: number) => `\\x${code.toString(16).padStart(2, "0")}`;
  for (const [from, to] of ranges) {
    // Printable ASCII other than " and \ is written as itself.
    for (const [a, b] of [
      [Math.max(from, 0x20), Math.min(to, 0x21)],
      [Math.max(from, 0x23), Math.min(to, 0x5b)],
      [Math.max(from, 0x5d), Math.min(to, 0x7e)],
    ] as Range[]) {
      if (a <= b) classParts.push(a === b ? classChar(a) : `${classChar(a)}-${classChar(b)}`);
    }
    for (const code of [0x22, 0x5c])
      if (from <= code && code <= to) alternatives.push(literal(jsonText(code) as string));
    for (let code = from; code <= to && escaped < MAX_ESCAPED; code++) {
      if ((code >= 0x20 && code <= 0x7e) || (code >= 0xd800 && code <= 0xdfff) || code > 0xffff) continue;
      escaped++;
      alternatives.push(literal(jsonText(code) as string));
    }
  }
  if (classParts.length > 0) alternatives.unshift(`[${classParts.join("")}]`);
  if (alternatives.length === 0) return null;
  return alternatives.length === 1 ? (alternatives[0] as string) : `(${alternatives.join(" | ")})`;
}

function jsonLeaves(pattern: string): RegexLeaves {
  const chars = (ranges: Range[]): string => {
    const gbnf = charsGbnf(ranges);
    if (gbnf === null) throw refuse(pattern, "a class that matches no character the grammar can write");
    return gbnf;
  };
  return {
    text: (codes) => {
      const written = codes.map(jsonText);
      if (written.includes(null)) return chars([]);
      return literal(written.join(""));
    },
    set: (node) => chars(setRanges(node, PRINTABLE)),
    union: (sets) => chars(sets.flatMap((set) => setRanges(set, PRINTABLE))),
  };
}

function lengths(node: Node): [number, number] {
  switch (node.kind) {
    case "char":
    case "set":
      return [1, 1];
    case "sequence":
      return node.items.map(lengths).reduce(([a, b], [c, d]) => [a + c, b + d], [0, 0]);
    case "alternation": {
      const all = node.options.map(lengths);
      return [Math.min(...all.map(([a]) => a)), Math.max(...all.map(([, b]) => b))];
    }
    case "repeat": {
      const [a, b] = lengths(node.node);
      return [a * node.min, node.max === 0 || b === 0 ? 0 : b * node.max];
    }
  }
}

/** The repeats of a node, in a fixed (pre-order) order. */
function repeatsOf(node: Node): Extract<Node, { kind: "repeat" }>[] {
  switch (node.kind) {
    case "char":
    case "set":
      return [];
    case "sequence":
      return node.items.flatMap(repeatsOf);
    case "alternation":
      return node.options.flatMap(repeatsOf);
    case "repeat":
      return [node, ...repeatsOf(node.node)];
  }
}

/** The node with its repeats' counts replaced by `counts` (in repeatsOf order). */
function withCounts(node: Node, counts: Map<Node, [number, number]>): Node {
  switch (node.kind) {
    case "char":
    case "set":
      return node;
    case "sequence":
      return { kind: "sequence", items: node.items.map((item) => withCounts(item, counts)) };
    case "alternation":
      return { kind: "alternation", options: node.options.map((option) => withCounts(option, counts)) };
    case "repeat": {
      const [min, max] = counts.get(node) ?? [node.min, node.max];
      return { kind: "repeat", node: withCounts(node.node, counts), min, max };
    }
  }
}

/**
 * A branch whose matches all have lengths in [minLength, maxLength], keeping a subset of its
 * matches, or null when none fit: repeats' minimums are raised one repeat at a time (the first
 * ones first) until the shortest match is long enough, then every repeat starts at its minimum and
 * the repeats take turns growing by one while the longest match still fits.
 */
function withinLengths(node: Node, minLength: number, maxLength: number): Node | null {
  const [min, max] = lengths(node);
  if (min >= minLength && max <= maxLength) return node;
  const repeats = repeatsOf(node);
  const counts = new Map<Node, [number, number]>(repeats.map((repeat) => [repeat, [repeat.min, repeat.max]]));
  const measure = () => lengths(withCounts(node, counts));
  for (const repeat of repeats) {
    while (measure()[0] < minLength) {
      const [low, high] = counts.get(repeat) as [number, number];
      if (low >= high || low >= repeat.min + minLength) break;
      counts.set(repeat, [low + 1, high]);
    }
  }
  if (measure()[0] < minLength) return null;
  if (maxLength === Infinity) return withCounts(node, counts);
  for (const repeat of repeats) {
    const [low] = counts.get(repeat) as [number, number];
    counts.set(repeat, [low, low]);
  }
  if (measure()[1] > maxLength) return null;
  for (let grown = true; grown; ) {
    grown = false;
    for (const repeat of repeats) {
      const [low, high] = counts.get(repeat) as [number, number];
      if (high >= repeat.max || high >= low + maxLength) continue;
      counts.set(repeat, [low, high + 1]);
      if (measure()[1] <= maxLength) grown = true;
      else counts.set(repeat, [low, high]);
    }
  }
  return withCounts(node, counts);
}

/**
 * GBNF for string content matching `pattern` with a length in [minLength, maxLength]; `anyChar`
 * is the rule of any one written character, used where the pattern is not anchored.
 */
export function patternGbnf(
  pattern: string,
  anyChar: string,
  bounds: { minLength: number; maxLength: number; keyword?: string } = { minLength: 0, maxLength: Infinity },
): string {
  try {
    new RegExp(pattern, "u");
  } catch {
    throw unsupported("pattern", `${JSON.stringify(pattern)} is not a valid regular expression`);
  }
  const constrained = bounds.minLength > 0 || bounds.maxLength < Infinity;
  const options: string[] = [];
  const leaves = jsonLeaves(pattern);
  for (const { node, anchoredStart, anchoredEnd } of parseRegex(pattern, ecmascript(pattern))) {
    if (constrained) {
      // Unanchored ends become explicit runs of any printable character, bounded with the rest.
      const any: Node = {
        kind: "repeat",
        node: { kind: "set", negated: false, items: [PRINTABLE] },
        min: 0,
        max: Infinity,
      };
      const whole: Node = {
        kind: "sequence",
        items: [...(anchoredStart ? [] : [any]), node, ...(anchoredEnd ? [] : [any])],
      };
      const branch = withinLengths(whole, bounds.minLength, bounds.maxLength);
      if (branch !== null) options.push(emitRegex(branch, leaves));
      continue;
    }
    options.push(
      [anchoredStart ? "" : `${anyChar}*`, emitRegex(node, leaves), anchoredEnd ? "" : `${anyChar}*`]
        .filter((part) => part !== "")
        .join(" "),
    );
  }
  if (options.length === 0)
    throw unsupported(
      bounds.keyword ?? "pattern",
      `${JSON.stringify(pattern)} has no match within minLength/maxLength`,
    );
  return options.length === 1 ? (options[0] as string) : `(${options.join(" | ")})`;
}
