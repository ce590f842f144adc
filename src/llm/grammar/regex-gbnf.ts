/**
 * A regular expression → a GBNF grammar (root rule `root`) whose language is the strings the regex
 * matches in full, for TGI's `grammar: {type: "regex", value}` (outlines' semantics: the whole output
 * matches). Python `re` syntax, the part that describes a regular language (regex-parse.ts):
 * literals and escapes (`\n`, `\t`, `\xHH`, `\uHHHH`, `\.`…), `.` (any character but a newline),
 * classes (`[a-z_]`, `[^"]`, `\d \w \s` and their negations, also inside `[…]`; ASCII meanings),
 * groups (`(…)`, `(?:…)`, `(?P<name>…)`), `|`, and `* + ? {n} {n,} {,n} {n,m}` (lazy forms match the
 * same strings). `^`/`\A` at the start and `$`/`\Z` at the end of a top-level alternative are
 * accepted (the match is whole anyway). Lookarounds, backreferences, other anchors, inline flags
 * and counts above 2,000 (llama.cpp's bound) are refused with `RegexGrammarError`, never silently
 * dropped.
 */
import { complement, emitRegex, type RegexLeaves, setRanges } from "./regex-emit.js";
import { parseRegex, type RegexDialect, type SetNode } from "./regex-parse.js";

export class RegexGrammarError extends Error {}

/** llama.cpp's grammar parser refuses larger `{n,m}` counts (MAX_REPETITION_THRESHOLD). */
const MAX_REPETITION = 2000;

const PYTHON: RegexDialect = {
  dotExcludes: [[0x0a, 0x0a]],
  controls: { n: 10, t: 9, r: 13, f: 12, v: 11, a: 7, "0": 0 },
  syntax: "python",
  maxCount: MAX_REPETITION,
  fail: (problem, _construct, position) => new RegexGrammarError(`${problem} at position ${position}`),
};

/** How `\d \w \s` are written inside a GBNF class. */
const ESCAPE_BODIES = { d: "0-9", w: "a-zA-Z0-9_", s: " \\t\\n\\r\\x0B\\x0C" };

const LEAVES: RegexLeaves = {
  text: (codes) => `"${codes.map((code) => (code === 0x22 || code === 0x5c ? "\\" : "") + printable(code)).join("")}"`,
  set: classGbnf,
};

export function regexToGbnf(pattern: string): string {
  const branches = parseRegex(pattern, PYTHON);
  const node =
    branches.length === 1
      ? (branches[0]?.node ?? { kind: "sequence", items: [] })
      : { kind: "alternation" as const, options: branches.map((branch) => branch.node) };
  return `root ::= ${emitRegex(node, LEAVES)}\n`;
}

/**
 * What a negation (`[^…]`, `.`, `\D \W \S`) ranges over: ASCII. llama.cpp's grammar takes a
 * multi-byte character's lead byte without checking that continuation bytes follow, so a negation
 * over all of Unicode let the model write a lead byte then ASCII: invalid UTF-8, which decodes to
 * U+FFFD and breaks the pattern's counts. Non-ASCII characters come only from a pattern that names
 * them (a literal or a positive range).
 */
const NEGATION_UNIVERSE: readonly [number, number] = [0, 0x7f];

/** A GBNF class: the items as written, or, with a negation in it, the ASCII characters it matches. */
function classGbnf(node: SetNode): string {
  const range = (from: number, to: number) => (from === to ? classChar(from) : `${classChar(from)}-${classChar(to)}`);
  const negation = node.negated || node.items.some((item) => "escape" in item && item.negated);
  if (negation) {
    // Sorted and merged: the complement of the complement.
    const ranges = complement(complement(setRanges(node, NEGATION_UNIVERSE), NEGATION_UNIVERSE), NEGATION_UNIVERSE);
    return ranges.length === 0 ? "[\x00]" : `[${ranges.map(([from, to]) => range(from, to)).join("")}]`;
  }
  const body = node.items.map((item) => ("escape" in item ? ESCAPE_BODIES[item.escape] : range(item[0], item[1])));
  return `[${body.join("")}]`;
}

/** A character inside a GBNF `[…]` (llama.cpp knows the escapes `\] \\ \- \[`, not `\^`). */
function classChar(code: number): string {
  if (code === 0x5e) return "\\x5E";
  const char = String.fromCodePoint(code);
  return "]\\-[".includes(char) ? `\\${char}` : printable(code);
}

function printable(code: number): string {
  if (code === 0x0a) return "\\n";
  if (code === 0x0d) return "\\r";
  if (code === 0x09) return "\\t";
  if (code < 0x20 || code === 0x7f) return `\\x${code.toString(16).padStart(2, "0")}`;
  if (code >= 0xd800 && code <= 0xdfff) return `\\u${code.toString(16).toUpperCase()}`;
  return String.fromCodePoint(code);
}
