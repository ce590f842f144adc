import { describe, expect, it } from "vitest";
import { parseRegex, type RegexDialect } from "./regex-parse.js";

const fail = (problem: string, construct: string, position: number) => new Error(`${problem}|${construct}|${position}`);
const dialect = (syntax: RegexDialect["syntax"]): RegexDialect => ({
  dotExcludes: [[10, 10]],
  controls: { n: 10 },
  syntax,
  fail,
  ...(syntax === "python" ? { maxCount: 2000 } : {}),
});
const PYTHON = dialect("python");
const ECMASCRIPT = dialect("ecmascript");

describe("parseRegex: one parser, two dialects", () => {
  it("reads the top-level alternatives with their anchors in both", () => {
    for (const syntax of [PYTHON, ECMASCRIPT]) {
      expect(parseRegex("^a|b$|c", syntax).map((branch) => [branch.anchoredStart, branch.anchoredEnd])).toEqual([
        [true, false],
        [false, true],
        [false, false],
      ]);
    }
    expect(parseRegex("\\Aa\\Z", PYTHON)[0]).toMatchObject({ anchoredStart: true, anchoredEnd: true });
  });

  it("keeps the dialects' own syntax apart", () => {
    // Python: `]` first in a class is a literal, {,n} is 0..n, \U is eight hex digits.
    expect(parseRegex("[]a]", PYTHON)[0]?.node).toEqual({
      kind: "sequence",
      items: [
        {
          kind: "set",
          negated: false,
          items: [
            [0x5d, 0x5d],
            [0x61, 0x61],
          ],
        },
      ],
    });
    expect(parseRegex("a{,3}", PYTHON)[0]?.node).toMatchObject({ items: [{ kind: "repeat", min: 0, max: 3 }] });
    expect(parseRegex("\\U0001F600", PYTHON)[0]?.node).toMatchObject({ items: [{ kind: "char", code: 0x1f600 }] });
    // ECMAScript: `[]` is an empty class, \u{…} any code point, {,n} is no count.
    expect(parseRegex("[]", ECMASCRIPT)[0]?.node).toMatchObject({ items: [{ kind: "set", items: [] }] });
    expect(parseRegex("\\u{1F600}", ECMASCRIPT)[0]?.node).toMatchObject({ items: [{ kind: "char", code: 0x1f600 }] });
    const literal = parseRegex("a{,3}", ECMASCRIPT)[0]?.node;
    expect(literal?.kind === "sequence" && literal.items.map((item) => item.kind)).toEqual(Array(5).fill("char"));
  });

  it("refuses through the dialect, with the problem, the construct and the position", () => {
    expect(() => parseRegex("ab(?=c)", PYTHON)).toThrow(
      "lookarounds, inline flags and conditionals are not supported|lookaround|3",
    );
    expect(() => parseRegex("a{2001}", PYTHON)).toThrow(/above 2000/);
    expect(parseRegex("a{2001}", ECMASCRIPT)[0]?.node).toMatchObject({ items: [{ kind: "repeat", min: 2001 }] });
    expect(() => parseRegex("(a)\\1", ECMASCRIPT)).toThrow("backreferences are not supported|\\1|5");
  });
});
