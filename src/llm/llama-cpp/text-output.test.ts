import { describe, expect, it } from "vitest";
import { createIncrementalDetokenizer, createStopMatcher } from "./text-output.js";

describe("createStopMatcher", () => {
  it("finds a stop sequence split across pushes and never emits it", () => {
    const matcher = createStopMatcher(["END"]);
    expect(matcher.push("hello E")).toEqual({ text: "hello ", stopped: false });
    expect(matcher.push("N")).toEqual({ text: "", stopped: false });
    expect(matcher.push("D tail")).toEqual({ text: "", stopped: true });
  });

  it("releases held text when the prefix turns out not to be a stop", () => {
    const matcher = createStopMatcher(["END"]);
    expect(matcher.push("an E")).toEqual({ text: "an ", stopped: false });
    expect(matcher.push("x")).toEqual({ text: "Ex", stopped: false });
    expect(matcher.flush()).toBe("");
  });

  it("stops at the earliest of several stop sequences", () => {
    const matcher = createStopMatcher(["world", "lo w"]);
    expect(matcher.push("hello world")).toEqual({ text: "hel", stopped: true });
  });

  it("returns held text on flush at the end of generation", () => {
    const matcher = createStopMatcher(["###"]);
    expect(matcher.push("abc##")).toEqual({ text: "abc", stopped: false });
    expect(matcher.flush()).toBe("##");
  });

  it("passes text through when there are no stop sequences", () => {
    const matcher = createStopMatcher(["", ""]);
    expect(matcher.push("abc")).toEqual({ text: "abc", stopped: false });
  });
});

describe("createIncrementalDetokenizer", () => {
  // Byte tokens: token id = byte value; decoding uses TextDecoder like a byte-fallback vocabulary.
  const decode = (tokens: readonly number[]) => new TextDecoder().decode(Uint8Array.from(tokens));

  it("holds bytes back until a multi-byte character is complete", () => {
    const detokenizer = createIncrementalDetokenizer((tokens) => decode(tokens));
    const euro = [...new TextEncoder().encode("€")];
    expect(detokenizer.push(0x61)).toBe("a");
    expect(detokenizer.push(euro[0] ?? 0)).toBe("");
    expect(detokenizer.push(euro[1] ?? 0)).toBe("");
    expect(detokenizer.push(euro[2] ?? 0)).toBe("€");
    expect(detokenizer.flush()).toBe("");
  });

  it("gives up holding after four bytes, so invalid bytes cannot stall the output", () => {
    const detokenizer = createIncrementalDetokenizer((tokens) => decode(tokens));
    expect(detokenizer.push(0xe2)).toBe("");
    expect(detokenizer.push(0xe2)).toBe("");
    expect(detokenizer.push(0xe2)).toBe("");
    expect(detokenizer.push(0xe2).length).toBeGreaterThan(0);
  });

  it("reads the first token after the tokens that precede it (the prompt), then after the text so far", () => {
    const calls: Array<{ tokens: number[]; context: number[] }> = [];
    const detokenizer = createIncrementalDetokenizer(
      (tokens, context) => {
        calls.push({ tokens: [...tokens], context: [...context] });
        return decode(tokens);
      },
      [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
    );
    detokenizer.push(0x61);
    detokenizer.push(0x62);
    // The last eight preceding tokens, then the window moves on with the generated ones.
    expect(calls).toEqual([
      { tokens: [0x61], context: [3, 4, 5, 6, 7, 8, 9, 10] },
      { tokens: [0x62], context: [4, 5, 6, 7, 8, 9, 10, 0x61] },
    ]);
  });

  it("flushes an incomplete character at the end", () => {
    const detokenizer = createIncrementalDetokenizer((tokens) => decode(tokens));
    expect(detokenizer.push(0xc3)).toBe("");
    expect(detokenizer.flush()).toBe("\uFFFD");
  });
});
