/**
 * A JSON-schema `pattern` (ECMAScript regular expression, unanchored unless it says `^`/`$`) as the
 * GBNF of the JSON string *content* whose decoded text matches it: `"` and `\` are written as JSON
 * escapes, control and non-ASCII characters as `\uXXXX`. Supported: literals, escapes (`\d \w \s`
 * and their negations, `\t \n \r \f \v \0 \xHH \uHHHH`), `.`, classes with ranges and negation,
 * groups (capturing, `(?:…)`, named), alternation, quantifiers `* + ? {n} {n,} {n,m}` (lazy too),
 * `^`/`$` at the ends of top-level alternatives. Anything else (lookaround, backreferences, `\b`,
 * `\p{…}`) is refused. A negated class, `.` and `\S`-style escapes write printable ASCII only: a
 * subset of what they match, so every string written still matches.
 */
import { quantified } from "./gbnf-repeat.js";
import { unsupported } from "./schema-error.js";

type Range = readonly [number, number];
type Node =
  | { kind: "chars"; ranges: Range[] }
  | { kind: "sequence"; items: Node[] }
  | { kind: "alternation"; options: Node[] }
  | { kind: "repeat"; node: Node; min: number; max: number };

const PRINTABLE: Range = [0x20, 0x7e];
const DIGIT: Range[] = [[0x30, 0x39]];
const WORD: Range[] = [
  [0x30, 0x39],
  [0x41, 0x5a],
  [0x5f, 0x5f],
  [0x61, 0x7a],
];
const SPACE: Range[] = [
  [0x09, 0x0d],
  [0x20, 0x20],
];
/** Most characters outside printable ASCII a class contributes (as \uXXXX escapes). */
const MAX_ESCAPED = 256;

function refuse(pattern: string, construct: string): Error {
  return unsupported("pattern", `${JSON.stringify(pattern)}: ${construct} cannot be enforced`);
}

/** Printable ASCII minus `ranges` (the written part of a negated set). */
function complement(ranges: Range[]): Range[] {
  const result: Range[] = [];
  let next = PRINTABLE[0];
  for (const [from, to] of [...ranges].sort((a, b) => a[0] - b[0])) {
    if (to < next) continue;
    if (from > PRINTABLE[1]) break;
    if (from > next) result.push([next, from - 1]);
    next = Math.max(next, to + 1);
  }
  if (next <= PRINTABLE[1]) result.push([next, PRINTABLE[1]]);
  return result;
}

class Parser {
  private position = 0;
  constructor(private readonly pattern: string) {}

  parse(): { node: Node; anchoredStart: boolean; anchoredEnd: boolean }[] {
    const branches: { node: Node; anchoredStart: boolean; anchoredEnd: boolean }[] = [];
    for (;;) {
      const anchoredStart = this.eat("^");
      const node = this.sequence(true);
      const anchoredEnd = this.eat("$");
      branches.push({ node, anchoredStart, anchoredEnd });
      if (this.position >= this.pattern.length) return branches;
      if (!this.eat("|")) throw refuse(this.pattern, "an anchor inside the pattern");
    }
  }

  private eat(text: string): boolean {
    if (!this.pattern.startsWith(text, this.position)) return false;
    this.position += text.length;
    return true;
  }

  private peek(): string {
    return this.pattern[this.position] ?? "";
  }

  private alternation(): Node {
    const options = [this.sequence(false)];
    while (this.eat("|")) options.push(this.sequence(false));
    return options.length === 1 ? (options[0] as Node) : { kind: "alternation", options };
  }

  private sequence(topLevel: boolean): Node {
    const items: Node[] = [];
    for (;;) {
      const next = this.peek();
      if (next === "" || next === "|" || next === ")") break;
      if (next === "$" && topLevel && ["", "|"].includes(this.pattern[this.position + 1] ?? "")) break;
      items.push(this.quantified(this.atom()));
    }
    return { kind: "sequence", items };
  }

  private quantified(node: Node): Node {
    let min: number;
    let max: number;
    const counted = /^\{(\d+)(,(\d*))?\}/.exec(this.pattern.slice(this.position));
    if (this.eat("*")) [min, max] = [0, Infinity];
    else if (this.eat("+")) [min, max] = [1, Infinity];
    else if (this.eat("?")) [min, max] = [0, 1];
    else if (counted !== null) {
      this.position += counted[0].length;
      min = Number(counted[1]);
      max = counted[2] === undefined ? min : counted[3] === "" ? Infinity : Number(counted[3]);
    } else return node;
    this.eat("?"); // lazy: same language
    return this.quantified({ kind: "repeat", node, min, max });
  }

  private atom(): Node {
    const character = this.peek();
    if (character === "(") {
      this.position++;
      if (/^\?(=|!|<=|<!)/.test(this.pattern.slice(this.position))) throw refuse(this.pattern, "lookaround");
      if (!this.eat("?:")) {
        const named = /^\?<[A-Za-z_$][\w$]*>/.exec(this.pattern.slice(this.position));
        if (named !== null) this.position += named[0].length;
      }
      const node = this.alternation();
      if (!this.eat(")")) throw refuse(this.pattern, "an unclosed group");
      return node;
    }
    if (character === "[") return this.characterClass();
    if (character === ".") {
      this.position++;
      return { kind: "chars", ranges: [PRINTABLE] };
    }
    if (character === "^" || character === "$") throw refuse(this.pattern, "an anchor inside the pattern");
    if (character === "\\") return { kind: "chars", ranges: this.escape(false) };
    const code = this.pattern.codePointAt(this.position) as number;
    this.position += code > 0xffff ? 2 : 1;
    return { kind: "chars", ranges: [[code, code]] };
  }

  private escape(inClass: boolean): Range[] {
    this.position++; // the backslash
    const character = this.peek();
    this.position++;
    const sets: Record<string, Range[]> = { d: DIGIT, w: WORD, s: SPACE };
    const lower = character.toLowerCase();
    if (lower in sets && "dwsDWS".includes(character)) {
      const set = sets[lower] as Range[];
      return character === lower ? set : complement(set);
    }
    const controls: Record<string, number> = { t: 9, n: 10, v: 11, f: 12, r: 13, "0": 0 };
    if (character === "b" && inClass) return [[8, 8]];
    if (character in controls) return [[controls[character] as number, controls[character] as number]];
    const hex = /^x([0-9a-fA-F]{2})|^u([0-9a-fA-F]{4})|^u\{([0-9a-fA-F]+)\}/.exec(
      this.pattern.slice(this.position - 1),
    );
    if (hex !== null) {
      this.position += hex[0].length - 1;
      const code = Number.parseInt(hex[1] ?? hex[2] ?? hex[3] ?? "0", 16);
      return [[code, code]];
    }
    if (/[1-9kbBpPc]/.test(character)) throw refuse(this.pattern, `\\${character}`);
    const code = character.codePointAt(0) as number;
    return [[code, code]];
  }

  private characterClass(): Node {
    this.position++;
    const negated = this.eat("^");
    const ranges: Range[] = [];
    const single = (): Range[] => {
      if (this.peek() === "\\") return this.escape(true);
      const code = this.pattern.codePointAt(this.position) as number;
      this.position += code > 0xffff ? 2 : 1;
      return [[code, code]];
    };
    while (this.peek() !== "]") {
      if (this.peek() === "") throw refuse(this.pattern, "an unclosed class");
      const from = single();
      if (this.peek() === "-" && this.pattern[this.position + 1] !== "]" && from.length === 1) {
        this.position++;
        const to = single();
        ranges.push([(from[0] as Range)[0], (to[0] as Range)[1]]);
      } else ranges.push(...from);
    }
    this.position++;
    return { kind: "chars", ranges: negated ? complement(ranges) : ranges };
  }
}

function hex4(code: number): string {
  return code.toString(16).padStart(4, "0");
}

/** GBNF for one character of `ranges`, as it is written inside a JSON string. */
function charsGbnf(ranges: Range[]): string | null {
  const classParts: string[] = [];
  const alternatives: string[] = [];
  let escaped = 0;
  const classChar = (code: number) => `\\x${code.toString(16).padStart(2, "0")}`;
  const names: Record<number, string> = { 8: "b", 9: "t", 10: "n", 12: "f", 13: "r" };
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
      if (from <= code && code <= to) alternatives.push(code === 0x22 ? '"\\\\\\""' : '"\\\\\\\\"');
    for (let code = from; code <= to && escaped < MAX_ESCAPED; code++) {
      if ((code >= 0x20 && code <= 0x7e) || (code >= 0xd800 && code <= 0xdfff) || code > 0xffff) continue;
      escaped++;
      alternatives.push(names[code] !== undefined ? `"\\\\${names[code]}"` : `"\\\\u${hex4(code)}"`);
    }
  }
  if (classParts.length > 0) alternatives.unshift(`[${classParts.join("")}]`);
  if (alternatives.length === 0) return null;
  return alternatives.length === 1 ? (alternatives[0] as string) : `(${alternatives.join(" | ")})`;
}

/** The ranges of a node that is one character (possibly wrapped in one-item sequences). */
function singleChars(node: Node): Range[] | undefined {
  if (node.kind === "chars") return node.ranges;
  return node.kind === "sequence" && node.items.length === 1 ? singleChars(node.items[0] as Node) : undefined;
}

function emit(node: Node, pattern: string): string {
  switch (node.kind) {
    case "chars": {
      const gbnf = charsGbnf(node.ranges);
      if (gbnf === null) throw refuse(pattern, "a class that matches no character the grammar can write");
      return gbnf;
    }
    case "sequence":
      if (node.items.length === 1) return emit(node.items[0] as Node, pattern);
      return node.items.length === 0 ? '""' : `(${node.items.map((item) => emit(item, pattern)).join(" ")})`;
    case "alternation": {
      // Single characters in every option (a|b|c) are one class: fewer nested rules for llama.cpp.
      const singles = node.options.map(singleChars);
      if (singles.every((ranges) => ranges !== undefined)) {
        return emit({ kind: "chars", ranges: singles.flatMap((ranges) => ranges ?? []) }, pattern);
      }
      return `(${node.options.map((option) => emit(option, pattern)).join(" | ")})`;
    }
    case "repeat": {
      const emitted = emit(node.node, pattern);
      // A class or a literal takes a quantifier as it is; anything else is grouped first.
      const inner = /^(\[(\\.|[^\]\\])*\]|"(\\.|[^"\\])*")$/.test(emitted) ? emitted : `(${emitted})`;
      return quantified(inner, node.min, node.max === Infinity ? undefined : node.max);
    }
  }
}

function lengths(node: Node): [number, number] {
  switch (node.kind) {
    case "chars":
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
    case "chars":
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
    case "chars":
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
  for (const { node, anchoredStart, anchoredEnd } of new Parser(pattern).parse()) {
    if (constrained) {
      // Unanchored ends become explicit runs of any printable character, bounded with the rest.
      const any: Node = { kind: "repeat", node: { kind: "chars", ranges: [PRINTABLE] }, min: 0, max: Infinity };
      const whole: Node = {
        kind: "sequence",
        items: [...(anchoredStart ? [] : [any]), node, ...(anchoredEnd ? [] : [any])],
      };
      const branch = withinLengths(whole, bounds.minLength, bounds.maxLength);
      if (branch !== null) options.push(emit(branch, pattern));
      continue;
    }
    options.push(
      [anchoredStart ? "" : `${anyChar}*`, emit(node, pattern), anchoredEnd ? "" : `${anyChar}*`]
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
