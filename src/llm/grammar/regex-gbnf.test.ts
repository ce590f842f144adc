import { getLlama } from "node-llama-cpp";
import { describe, expect, it } from "vitest";
import { RegexGrammarError, regexToGbnf } from "./regex-gbnf.js";

describe("regexToGbnf", () => {
  it.each([
    ["[0-9]{3}-[0-9]{4}", 'root ::= ([0-9]{3} "-" [0-9]{4})\n'],
    ["(yes|no)", 'root ::= ("yes" | "no")\n'],
    ["^\\d+(\\.\\d{1,2})?$", 'root ::= ([0-9]+ (("." [0-9]{1,2}))?)\n'],
    // Negations range over ASCII (regex-gbnf.ts, NEGATION_UNIVERSE): `.` is ASCII but a newline.
    ["a.b*?", 'root ::= ("a" [\\x00-\\t\\x0b-\\x7f] ("b")*)\n'],
    ['[^"\\\\]{2,}', "root ::= [\\x00-!#-\\[\\]-\\x7f]{2,}\n"],
    ["[]a-c\\-]", "root ::= [\\]a-c\\-]\n"],
    ["(?P<word>\\w)(?:x|\\s)", 'root ::= ([a-zA-Z0-9_] ("x" | [ \\t\\n\\r\\x0B\\x0C]))\n'],
    ['say "hi"\\n', 'root ::= "say \\"hi\\"\\n"\n'],
    ["x{2}y{1,}z{", 'root ::= (("x"){2} ("y")+ "z{")\n'],
    ["\\u00e9|\\x41", 'root ::= ("é" | "A")\n'],
    ["", 'root ::= ""\n'],
    // Negated class escapes inside a class (as JSON-schema patterns have them): the complement.
    ["[\\D]", "root ::= [\\x00-/:-\\x7f]\n"],
    ["[^\\D]", "root ::= [0-9]\n"],
    ["[\\W_]", "root ::= [\\x00-/:-@\\[-`{-\\x7f]\n"],
    ["[\\s\\S]", "root ::= [\\x00-\\x7f]\n"],
    // llama.cpp has no `\^` escape in a class.
    ["[a^]", "root ::= [a\\x5E]\n"],
    // Anchors at the ends of every top-level alternative (as JSON-schema patterns have them).
    ["^a|b$", 'root ::= ("a" | "b")\n'],
    ["\\Aab\\Z|c", 'root ::= ("ab" | "c")\n'],
    // Python's {,n}: zero to n.
    ["a{,3}", 'root ::= ("a"){0,3}\n'],
  ])("%s", (pattern, grammar) => {
    expect(regexToGbnf(pattern)).toBe(grammar);
  });

  it.each([
    ["(?=a)b", /lookarounds/],
    ["(a)\\1", /backreferences/],
    ["(a", /missing `\)`/],
    ["a)", /unbalanced `\)`/],
    ["*a", /nothing to repeat/],
    ["a{3,1}", /bad repetition/],
    ["a{2001}", /above 2000/],
    ["a{1,5000}", /above 2000/],
    ["a^b", /`\^` is only supported at the start/],
    ["a$b", /`\$` is only supported at the end/],
    ["[a", /missing `\]`/],
    ["[z-a]", /bad character range/],
    ["[a-\\d]", /a range cannot end with a class escape/],
    ["^a|b^", /`\^` is only supported at the start/],
    ["\\bword", /\\b is not supported/],
    ["a\\", /cannot end with/],
    ["(".repeat(200) + ")".repeat(200), /nested deeper than 128/],
  ])("refuses %s", (pattern, message) => {
    expect(() => regexToGbnf(pattern)).toThrow(RegexGrammarError);
    expect(() => regexToGbnf(pattern)).toThrow(message);
  });

  it("writes grammars llama.cpp builds, class escapes and `^` in classes included", async () => {
    const llama = await getLlama({ gpu: false });
    for (const pattern of ["[\\D]", "[^\\D]", "[\\W_]", "[\\s\\S]", "[a^]", "[]a-c\\-]", "a.b", "\\u00e9{2}|x{1500}"]) {
      await expect(llama.createGrammar({ grammar: regexToGbnf(pattern) }), pattern).resolves.toBeDefined();
    }
  });
});
