import { describe, expect, it } from "vitest";
import { fakeLanguageModel } from "../testing/fakes.js";
import { createQueryExpansionStep, looksLikeQuery, parseExpandedQueries } from "./query-expansion.js";

const original = "How do I build a RAG pipeline?";

describe("parseExpandedQueries", () => {
  it("reads numbered, bulleted, quoted and separator-delimited lines", () => {
    const text =
      '1. What are the steps to build a RAG system?\n- "Which components does a retrieval pipeline need?"\n' +
      "#next-question#How should documents be chunked for retrieval?";
    expect(parseExpandedQueries(text, original, 5)).toEqual([
      "What are the steps to build a RAG system?",
      "Which components does a retrieval pipeline need?",
      "How should documents be chunked for retrieval?",
    ]);
  });

  it("keeps at most the requested number, without duplicates of the original", () => {
    const text = `${original}\nhow do i build a rag pipeline?\nFirst other phrasing of it here\nSecond other phrasing of it here`;
    expect(parseExpandedQueries(text, original, 1)).toEqual(["First other phrasing of it here"]);
  });

  it("drops garbage such as random-model output", () => {
    expect(parseExpandedQueries("<0x12>\uFFFD\uFFFDxq 12 ## ]] \n a\n zz yy", original, 2)).toEqual([]);
    expect(looksLikeQuery("▁the▁▁of 0x3 @@@ ###")).toBe(false);
    expect(looksLikeQuery("What is retrieval augmented generation?")).toBe(true);
  });
});

describe("createQueryExpansionStep", () => {
  it("returns the original first, then the expansions", async () => {
    const llm = fakeLanguageModel();
    llm.defaultText = "What are the parts of a RAG pipeline?\nHow does retrieval augmented generation work?";
    const step = createQueryExpansionStep({ llm, maxNewTokens: 50 });
    expect(await step(original, { count: 3 })).toEqual([
      original,
      "What are the parts of a RAG pipeline?",
      "How does retrieval augmented generation work?",
    ]);
  });

  it("falls back to the original query on garbage, and skips the LLM for count 1", async () => {
    const llm = fakeLanguageModel();
    llm.defaultText = "\u0001\u0002 <unk> 77 ::";
    const step = createQueryExpansionStep({ llm, maxNewTokens: 50 });
    expect(await step(original, { count: 3 })).toEqual([original]);
    expect(await step(original, { count: 1 })).toEqual([original]);
    expect(llm.requests).toHaveLength(1);
  });
});
