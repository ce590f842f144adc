/**
 * The one regular-expression parser behind both regex → GBNF converters: TGI's `grammar: {type:
 * "regex"}` (Python `re` syntax, regex-gbnf.ts) and JSON-schema `pattern` (ECMAScript syntax,
 * gbnf-regex.ts). It reads the part of either syntax that describes a regular language: literals
 * and escapes, `.`, classes (ranges, negation, `\d \w \s` and their negations, ASCII meanings),
 * groups (capturing, `(?:…)`, named), `|`, `* + ? {n} {n,} {n,m}` (lazy/possessive forms match the
 * same strings) and anchors at the ends of top-level alternatives. Everything else (lookarounds,
 * backreferences, other anchors, inline flags) is refused through the dialect's `fail`, never
 * silently dropped. The dialect differences are the `RegexDialect` options.
 */

export type Range = readonly [number, number];
/** One item of a class: a character range, or `\d \w \s` (negated: `\D \W \S`). */
export type ClassItem = Range | { escape: "d" | "w" | "s"; negated: boolean };
export type SetNode = { kind: "set"; negated: boolean; items: ClassItem[] };
export type RegexNode =
  | { kind: "char"; code: number }
  | SetNode
  | { kind: "sequence"; items: RegexNode[] }
  | { kind: "alternation"; options: RegexNode[] }
  | { kind: "repeat"; node: RegexNode; min: number; max: number };
/** A top-level alternative and whether it is anchored at its start (`^`) and end (`$`). */
export type RegexBranch = { node: RegexNode; anchoredStart: boolean; anchoredEnd: boolean };

export interface RegexDialect {
  /** Characters `.` does not match. */
  dotExcludes: Range[];
  /** One-letter escapes of one character (`n` → 10…), beside `\xHH` and `\uHHHH`. */
  controls: Record<string, number>;
  /**
   * Python (`re`): also `\UHHHHHHHH`, `\A`, `\Z` and `{,n}`, and `]` first in a class is a literal.
   * ECMAScript: also `\u{H…}`, and `[]` matches nothing, `[^]` anything.
   */
  syntax: "python" | "ecmascript";
  /** Counts above this are refused (undefined: no limit). */
  maxCount?: number;
  /**
   * The error for a refused pattern: `problem` is the Python-style message, `construct` names
   * what cannot be enforced, `position` counts code points.
   */
  fail(problem: string, construct: string, position: number): Error;
}

/** The sets `\d \w \s` stand for (ASCII meanings). */
export const ESCAPE_SETS: Record<"d" | "w" | "s", Range[]> = {
  d: [[0x30, 0x39]],
  w: [
    [0x30, 0x39],
    [0x41, 0x5a],
    [0x5f, 0x5f],
    [0x61, 0x7a],
  ],
  s: [
    [0x09, 0x0d],
    [0x20, 0x20],
  ],
};

/** Groups nested deeper than this are refused (the parser recurses once per level). */
const MAX_DEPTH = 128;

type Escaped = { code: number } | { escape: "d" | "w" | "s"; negated: boolean };

export function parseRegex(pattern: string, dialect: RegexDialect): RegexBranch[] {
  const chars = Array.from(pattern);
  const python = dialect.syntax === "python";
  let position = 0;
  let depth = 0;
  const fail = (problem: string, construct = problem): never => {
    throw dialect.fail(problem, construct, position);
  };
  const peek = (offset = 0): string => chars[position + offset] ?? "";
  const eat = (text: string): boolean => {
    const length = Array.from(text).length;
    if (chars.slice(position, position + length).join("") !== text) return false;
    position += length;
    return true;
  };
  const startAnchor = (): boolean => eat("^") || (python && eat("\\A"));
  /** Whether an end anchor (`$`, Python's `\Z`) ends the current top-level alternative. */
  const atEndAnchor = (): boolean => {
    const length = peek() === "$" ? 1 : python && peek() === "\\" && peek(1) === "Z" ? 2 : 0;
    return length > 0 && ["", "|"].includes(peek(length));
  };

  function branches(): RegexBranch[] {
    const result: RegexBranch[] = [];
    for (;;) {
      const anchoredStart = startAnchor();
      const node = sequence(true);
      const anchoredEnd = atEndAnchor();
      if (anchoredEnd) position += peek() === "$" ? 1 : 2;
      result.push({ node, anchoredStart, anchoredEnd });
      if (position >= chars.length) return result;
      if (!eat("|")) fail("unbalanced `)`");
    }
  }

  function alternation(): RegexNode {
    const options = [sequence(false)];
    while (eat("|")) options.push(sequence(false));
    return options.length === 1 ? (options[0] as RegexNode) : { kind: "alternation", options };
  }

  function sequence(topLevel: boolean): RegexNode {
    const items: RegexNode[] = [];
    for (;;) {
      const next = peek();
      if (next === "" || next === "|" || next === ")" || (topLevel && atEndAnchor())) break;
      items.push(quantified(atom()));
    }
    return { kind: "sequence", items };
  }

  function quantified(atom: RegexNode): RegexNode {
    let node = atom;
    for (;;) {
      const next = peek();
      let bounds: [number, number] | undefined;
      if (next === "*") bounds = [0, Infinity];
      else if (next === "+") bounds = [1, Infinity];
      else if (next === "?") bounds = [0, 1];
      else if (next === "{") bounds = braces();
      if (bounds === undefined) return node;
      if (next !== "{") position += 1;
      if (peek() === "?" || peek() === "+") position += 1; // lazy or possessive: the same strings
      const [min, max] = bounds;
      if (max < min) fail(`bad repetition {${min},${max}}`);
      const limit = dialect.maxCount;
      if (limit !== undefined && Math.max(min, max === Infinity ? 0 : max) > limit)
        fail(`repetition counts above ${limit} are not supported`);
      node = { kind: "repeat", node, min, max };
    }
  }

  /** `{n}`, `{n,}`, `{n,m}` (Python: also `{,m}`), consumed; undefined when the brace is a literal. */
  function braces(): [number, number] | undefined {
    const text = chars.slice(position, position + 24).join("");
    const match = (python ? /^\{(\d*)(,(\d*))?\}/ : /^\{(\d+)(,(\d*))?\}/).exec(text);
    if (match === null || (match[1] === "" && match[2] === undefined)) return undefined;
    position += match[0].length;
    const min = Number(match[1]);
    if (match[2] === undefined) return [min, min];
    return [min, match[3] === "" ? Infinity : Number(match[3])];
  }

  function atom(): RegexNode {
    const char = peek();
    position += 1;
    switch (char) {
      case "(":
        return group();
      case "[":
        return characterClass();
      case ".":
        return { kind: "set", negated: true, items: dialect.dotExcludes };
      case "^":
        return fail("`^` is only supported at the start", "an anchor inside the pattern");
      case "$":
        return fail("`$` is only supported at the end", "an anchor inside the pattern");
      case "*":
      case "+":
      case "?":
        return fail(`nothing to repeat before \`${char}\``);
      case "\\": {
        const escaped = escapeSequence(false);
        if ("code" in escaped) return { kind: "char", code: escaped.code };
        return { kind: "set", negated: escaped.negated, items: [{ escape: escaped.escape, negated: false }] };
      }
      default:
        return { kind: "char", code: char.codePointAt(0) as number };
    }
  }

  function group(): RegexNode {
    depth += 1;
    if (depth > MAX_DEPTH) fail(`groups nested deeper than ${MAX_DEPTH}`);
    if (peek() === "?") {
      const lookaround = /^\?(=|!|<=|<!)/.test(chars.slice(position, position + 3).join(""));
      if (lookaround) fail("lookarounds, inline flags and conditionals are not supported", "lookaround");
      if (eat("?:")) {
        // a group that does not capture
      } else if (eat("?P<") || eat("?<")) {
        const close = chars.indexOf(">", position);
        if (close < 0) fail("unterminated group name");
        position = close + 1;
      } else fail("lookarounds, inline flags and conditionals are not supported", "an inline flag");
    }
    const inner = alternation();
    if (!eat(")")) fail("missing `)`", "an unclosed group");
    depth -= 1;
    return inner;
  }

  function characterClass(): RegexNode {
    const negated = eat("^");
    const items: ClassItem[] = [];
    let first = python;
    while (peek() !== "]" || first) {
      if (peek() === "") fail("missing `]`", "an unclosed class");
      first = false;
      const item = classItem();
      if (peek() === "-" && peek(1) !== "]" && peek(1) !== "" && "code" in item) {
        position += 1;
        const end = classItem();
        if (!("code" in end)) return fail("a range cannot end with a class escape");
        if (end.code < item.code) fail("bad character range");
        items.push([item.code, end.code]);
      } else items.push("code" in item ? [item.code, item.code] : item);
    }
    position += 1;
    return { kind: "set", negated, items };
  }

  function classItem(): Escaped {
    const char = peek();
    position += 1;
    return char === "\\" ? escapeSequence(true) : { code: char.codePointAt(0) as number };
  }

  function escapeSequence(inClass: boolean): Escaped {
    const char = peek();
    if (char === "") return fail("a pattern cannot end with `\\`");
    position += 1;
    const lower = char.toLowerCase();
    if ("dws".includes(lower) && "dwsDWS".includes(char))
      return { escape: lower as "d" | "w" | "s", negated: char !== lower };
    if (inClass && char === "b") return { code: 8 };
    const control = Object.hasOwn(dialect.controls, char) ? dialect.controls[char] : undefined;
    if (control !== undefined) return { code: control };
    const hex =
      char === "x"
        ? /^[0-9a-fA-F]{2}/
        : char === "u"
          ? python
            ? /^[0-9a-fA-F]{4}/
            : /^[0-9a-fA-F]{4}|^\{[0-9a-fA-F]+\}/
          : char === "U" && python
            ? /^[0-9a-fA-F]{8}/
            : undefined;
    if (hex !== undefined) {
      const match = hex.exec(chars.slice(position, position + 10).join(""));
      if (match === null) return fail(`bad \\${char} escape`);
      position += match[0].length;
      return { code: Number.parseInt(match[0].replace(/[{}]/g, ""), 16) };
    }
    if (/[1-9]/.test(char)) return fail("backreferences are not supported", `\\${char}`);
    if (/[A-Za-z]/.test(char)) return fail(`\\${char} is not supported`, `\\${char}`);
    return { code: char.codePointAt(0) as number };
  }

  return branches();
}
