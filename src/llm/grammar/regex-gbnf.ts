/**
 * A regular expression → a GBNF grammar (root rule `root`) whose language is the strings the regex
 * matches in full, for TGI's `grammar: {type: "regex", value}` (outlines' semantics: the whole output
 * matches). Python `re` syntax, the part that describes a regular language: literals and escapes
 * (`\n`, `\t`, `\xHH`, `\uHHHH`, `\.`…), `.` (any character but a newline), classes (`[a-z_]`,
 * `[^"]`, `\d \w \s` and their negations; ASCII meanings), groups (`(…)`, `(?:…)`, `(?P<name>…)`),
 * `|`, and `* + ? {n} {n,} {n,m}` (lazy forms match the same strings). `^` at the start and `$` at the
 * end are accepted (the match is whole anyway). Lookarounds, backreferences, other anchors, inline
 * flags and counts above 2,000 (llama.cpp's bound) are refused with `RegexGrammarError`, never
 * silently dropped.
 */

export class RegexGrammarError extends Error {}

type Node =
  | { kind: "sequence"; items: Node[] }
  | { kind: "alternation"; options: Node[] }
  | { kind: "literal"; text: string }
  | { kind: "class"; negated: boolean; body: string }
  | { kind: "repeat"; node: Node; min: number; max: number | undefined };

/** Groups nested deeper than this are refused (the parser recurses once per level). */
const MAX_DEPTH = 128;
/** llama.cpp's grammar parser refuses larger `{n,m}` counts (MAX_REPETITION_THRESHOLD). */
const MAX_REPETITION = 2000;

const DIGIT = "0-9";
const WORD = "a-zA-Z0-9_";
const SPACE = " \\t\\n\\r\\x0B\\x0C";

export function regexToGbnf(pattern: string): string {
  const parser = createParser(pattern);
  const node = parser.parse();
  return `root ::= ${emit(node)}\n`;
}

function createParser(pattern: string) {
  const chars = Array.from(pattern);
  let position = 0;
  let depth = 0;
  const fail = (problem: string): never => {
    throw new RegexGrammarError(`${problem} at position ${position}`);
  };
  const peek = (): string | undefined => chars[position];
  const atEnd = (): boolean => position >= chars.length;

  function alternation(): Node {
    const options = [sequence()];
    while (peek() === "|") {
      position += 1;
      options.push(sequence());
    }
    return options.length === 1 ? (options[0] as Node) : { kind: "alternation", options };
  }

  function sequence(): Node {
    const items: Node[] = [];
    while (!atEnd() && peek() !== "|" && peek() !== ")") {
      const atom = parseAtom();
      if (atom !== undefined) items.push(quantified(atom));
    }
    return { kind: "sequence", items };
  }

  function quantified(atom: Node): Node {
    let node = atom;
    for (;;) {
      const next = peek();
      let bounds: [number, number | undefined] | undefined;
      if (next === "*") bounds = [0, undefined];
      else if (next === "+") bounds = [1, undefined];
      else if (next === "?") bounds = [0, 1];
      else if (next === "{") bounds = braces();
      if (bounds === undefined) return node;
      if (next !== "{") position += 1;
      if (peek() === "?" || peek() === "+") position += 1; // lazy or possessive: the same strings
      const [min, max] = bounds;
      if (max !== undefined && max < min) fail(`bad repetition {${min},${max}}`);
      if (Math.max(min, max ?? 0) > MAX_REPETITION) fail(`repetition counts above ${MAX_REPETITION} are not supported`);
      node = { kind: "repeat", node, min, max };
    }
  }

  /** `{n}`, `{n,}`, `{n,m}` (consumed), or undefined when the brace is a literal (as in Python). */
  function braces(): [number, number | undefined] | undefined {
    const match = /^\{(\d+)(,(\d*))?\}/.exec(chars.slice(position, position + 24).join(""));
    if (match === null) return undefined;
    position += Array.from(match[0]).length;
    const min = Number(match[1]);
    if (match[2] === undefined) return [min, min];
    return [min, match[3] === "" ? undefined : Number(match[3])];
  }

  function parseAtom(): Node | undefined {
    const start = position;
    const char = chars[position] as string;
    position += 1;
    switch (char) {
      case "(":
        return group();
      case "[":
        return characterClass();
      case ".":
        return { kind: "class", negated: true, body: "\\n" };
      case "^":
        if (start !== 0) fail("`^` is only supported at the start");
        return undefined;
      case "$":
        if (!atEnd()) fail("`$` is only supported at the end");
        return undefined;
      case "*":
      case "+":
      case "?":
        return fail(`nothing to repeat before \`${char}\``);
      case "\\":
        return escapeSequence(false);
      default:
        return { kind: "literal", text: char };
    }
  }

  function group(): Node {
    depth += 1;
    if (depth > MAX_DEPTH) fail(`groups nested deeper than ${MAX_DEPTH}`);
    if (peek() === "?") {
      const rest = chars.slice(position, position + 3).join("");
      if (rest.startsWith("?:")) position += 2;
      else if (rest.startsWith("?P<") || (rest.startsWith("?<") && rest[2] !== "=" && rest[2] !== "!")) {
        const close = chars.indexOf(">", position);
        if (close < 0) fail("unterminated group name");
        position = close + 1;
      } else fail("lookarounds, inline flags and conditionals are not supported");
    }
    const inner = alternation();
    if (peek() !== ")") fail("missing `)`");
    position += 1;
    depth -= 1;
    return inner;
  }

  function characterClass(): Node {
    let negated = false;
    if (peek() === "^") {
      negated = true;
      position += 1;
    }
    let body = "";
    let first = true;
    while (peek() !== "]" || first) {
      if (atEnd()) fail("missing `]`");
      first = false;
      const item = classItem();
      if (
        peek() === "-" &&
        chars[position + 1] !== "]" &&
        chars[position + 1] !== undefined &&
        item.char !== undefined
      ) {
        position += 1;
        const end = classItem();
        if (end.char === undefined) fail("a range cannot end with a class escape");
        const last = end.char ?? "";
        if ((last.codePointAt(0) ?? 0) < (item.char.codePointAt(0) ?? 0)) fail("bad character range");
        body += `${classChar(item.char)}-${classChar(last)}`;
      } else body += item.char === undefined ? item.body : classChar(item.char);
    }
    position += 1;
    return { kind: "class", negated, body };
  }

  /** One character of a class, or a class escape (`\d`…) given as GBNF class body. */
  function classItem(): { char: string; body?: undefined } | { char?: undefined; body: string } {
    const char = chars[position] as string;
    position += 1;
    if (char !== "\\") return { char };
    const escaped = escapeSequence(true);
    if (escaped.kind === "literal") return { char: escaped.text };
    if (escaped.kind === "class" && !escaped.negated) return { body: escaped.body };
    return fail("negated class escapes (\\D, \\W, \\S) inside `[…]` are not supported");
  }

  function escapeSequence(inClass: boolean): Node {
    const char = chars[position];
    if (char === undefined) return fail("a pattern cannot end with `\\`");
    position += 1;
    const classes: Record<string, [boolean, string]> = {
      d: [false, DIGIT],
      D: [true, DIGIT],
      w: [false, WORD],
      W: [true, WORD],
      s: [false, SPACE],
      S: [true, SPACE],
    };
    const known = classes[char];
    if (known !== undefined) return { kind: "class", negated: known[0], body: known[1] };
    const controls: Record<string, string> = { n: "\n", t: "\t", r: "\r", f: "\f", v: "\v", a: "\x07", "0": "\0" };
    const control = controls[char];
    if (control !== undefined) return { kind: "literal", text: control };
    if (char === "x" || char === "u" || char === "U") {
      const length = char === "x" ? 2 : char === "u" ? 4 : 8;
      const hex = chars.slice(position, position + length).join("");
      if (!/^[0-9a-fA-F]+$/.test(hex) || hex.length !== length) fail(`bad \\${char} escape`);
      position += length;
      return { kind: "literal", text: String.fromCodePoint(Number.parseInt(hex, 16)) };
    }
    if (/[1-9]/.test(char)) return fail("backreferences are not supported");
    if (!inClass && char === "A" && position === 2) return { kind: "sequence", items: [] };
    if (!inClass && char === "Z" && atEnd()) return { kind: "sequence", items: [] };
    if (/[A-Za-z]/.test(char) && !(inClass && char === "b")) return fail(`\\${char} is not supported`);
    return { kind: "literal", text: inClass && char === "b" ? "\b" : char };
  }

  return {
    parse(): Node {
      const node = alternation();
      if (!atEnd()) fail("unbalanced `)`");
      return node;
    },
  };
}

function emit(node: Node): string {
  switch (node.kind) {
    case "literal":
      return literal(node.text);
    case "class":
      return `[${node.negated ? "^" : ""}${node.body}]`;
    case "sequence": {
      const merged: Node[] = [];
      for (const item of node.items) {
        const previous = merged.at(-1);
        if (item.kind === "literal" && previous?.kind === "literal") {
          merged[merged.length - 1] = { kind: "literal", text: previous.text + item.text };
        } else merged.push(item);
      }
      if (merged.length === 0) return '""';
      return merged.length === 1 ? emit(merged[0] as Node) : `(${merged.map(emit).join(" ")})`;
    }
    case "alternation":
      return `(${node.options.map(emit).join(" | ")})`;
    case "repeat": {
      const inner = node.node.kind === "class" ? emit(node.node) : `(${emit(node.node)})`;
      const { min, max } = node;
      if (min === 0 && max === undefined) return `${inner}*`;
      if (min === 1 && max === undefined) return `${inner}+`;
      if (min === 0 && max === 1) return `${inner}?`;
      if (max === undefined) return `${inner}{${min},}`;
      return min === max ? `${inner}{${min}}` : `${inner}{${min},${max}}`;
    }
  }
}

/** A GBNF string literal. */
function literal(text: string): string {
  let out = '"';
  for (const char of text) {
    if (char === '"' || char === "\\") out += `\\${char}`;
    else out += printable(char);
  }
  return `${out}"`;
}

/** A character inside a GBNF `[…]`. */
function classChar(char: string): string {
  if (char === "]" || char === "\\" || char === "-" || char === "^" || char === "[") return `\\${char}`;
  return printable(char);
}

function printable(char: string): string {
  const code = char.codePointAt(0) as number;
  if (char === "\n") return "\\n";
  if (char === "\r") return "\\r";
  if (char === "\t") return "\\t";
  if (code < 0x20 || code === 0x7f) return `\\x${code.toString(16).padStart(2, "0")}`;
  return char;
}
