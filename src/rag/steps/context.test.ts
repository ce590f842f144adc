import { describe, expect, it } from "vitest";
import { PAUL } from "../testing/fakes.js";
import type { RagSource } from "../types.js";
import { buildContext, estimateTokens, splitSentences } from "./context.js";

const words = (text: string) => text.split(/\s+/).filter(Boolean).length;

function source(id: string, text: string): RagSource {
  return { id, documentId: id, title: `T${id}`, link: "", author: PAUL, category: "articles", score: 1, text };
}

describe("buildContext", () => {
  const long = "First sentence is here. Second sentence follows it. Third one ends the text.";

  it("keeps whole sources within the budget", () => {
    const context = buildContext([source("a", "Short text."), source("b", "Another text.")], 100, words);
    expect(context.sourcesUsed).toBe(2);
    expect(context.truncated).toBe(false);
    expect(context.text).toContain("Short text.");
    expect(context.text).toContain("Another text.");
    expect(context.tokens).toBeLessThanOrEqual(100);
  });

  it("cuts at a sentence boundary and never exceeds the budget", () => {
    const first = source("a", "One two three four five.");
    for (let budget = 5; budget <= 40; budget += 1) {
      const context = buildContext([first, source("b", long)], budget, words);
      expect(context.tokens).toBeLessThanOrEqual(budget);
      const lastLine = context.text.split("\n").at(-1) ?? "";
      if (context.sourcesUsed > 0) expect(lastLine).toMatch(/[.!?]$/);
    }
    const cut = buildContext([first, source("b", long)], 26, words);
    expect(cut.truncated).toBe(true);
    expect(cut.text).toContain("First sentence is here.");
    expect(cut.text).not.toContain("Third one");
  });

  it("splits sentences and estimates tokens", () => {
    expect(splitSentences(long)).toHaveLength(3);
    expect(estimateTokens("abcdefgh")).toBe(2);
  });
});
