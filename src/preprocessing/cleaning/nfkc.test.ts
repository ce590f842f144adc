import { describe, expect, it } from "vitest";
import { toNfkc } from "./nfkc.js";

describe("toNfkc", () => {
  it("equals String.prototype.normalize('NFKC') for every BMP code point and the styled letters", () => {
    const mismatches: string[] = [];
    const check = (codePoint: number) => {
      const text = `a${String.fromCodePoint(codePoint)}b`;
      if (toNfkc(text) !== text.normalize("NFKC")) mismatches.push(codePoint.toString(16));
    };
    for (let codePoint = 0; codePoint <= 0xffff; codePoint++)
      if (codePoint < 0xd800 || codePoint > 0xdfff) check(codePoint);
    for (let codePoint = 0x1d400; codePoint <= 0x1d7ff; codePoint++) check(codePoint);
    expect(mismatches).toEqual([]);
  });

  it("composes decomposed accents and Hangul jamo, and leaves plain text as it is", () => {
    expect(toNfkc("Veli\u010Dkovi\u0107 e\u0301")).toBe("Veličković é");
    expect(toNfkc("\u1100\u1161")).toBe("가");
    expect(toNfkc("𝗯𝗼𝗹𝗱 ﬁne ①")).toBe("bold fine 1");
    const plain = "It’s “quoted” — and 100% plain.";
    expect(toNfkc(plain)).toBe(plain);
  });
});
