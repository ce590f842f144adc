import { describe, expect, it } from "vitest";
import { readLlmTwinFollowUps } from "../../eval/retrieval/follow-ups.js";
import { fakeLanguageModel } from "../testing/fakes.js";
import type { HistoryTurn } from "../types.js";
import { condenseQuestion } from "./condense.js";
import { checkRewrite, contentStems, wordShare } from "./condense-check.js";

const defaults = { minWordShare: 0.8, minOverlap: 0.5 };

const question = "What does he recommend before SFT?";
const aboutMaxime: HistoryTurn[] = [
  { role: "user", content: "Tell me about Maxime Labonne's fine-tuning articles" },
  { role: "assistant", content: "He wrote about SFT, preference alignment and merging models." },
];
const turns = aboutMaxime.map((turn) => turn.content);

// First lines written by the offline demo model (random weights) for the follow-up benchmark's prompts.
const demoRewrites = [
  "\uFFFD\uFFFD her  these6\uFFFD i8h\uFFFD firs\uFFFD| for\uFFFD\uFFFDE;!\uFFFD| for\uFFFD\uFFFDE;!\uFFFD| for\uFFFDt up\uFFFD| for\uFFFDt up\uFFFD|",
  "\uFFFD\uFFFD her  these6\uFFFD i8h\uFFFD when\uFFFD\uFFFD sh thei yo\u00048\uFFFDY suchjH\uFFFDY suchjH\uFFFDY suchjH\uFFFDY",
  "\uFFFD\uFFFD her  these6\uFFFD i8h\uFFFD when\uFFFD\uFFFD sh thei yo\u00048\\ she\u0011\uFFFDx other som\uFFFD.\uFFFD time and4 it=\uFFFD o woul4 it=\uFFFD o woul4",
];

describe("the condensed question's sanity check", () => {
  it("accepts a rewrite that resolves the pronoun with the history's author", () => {
    const check = checkRewrite("What does Maxime Labonne recommend before SFT?", question, turns, defaults);
    expect(check).toEqual({ failure: undefined, wordShare: 1, overlap: 1 });
  });

  it("accepts a rewrite that adds a few words of its own, and code or numbers", () => {
    const check = checkRewrite(
      "Which data preparation steps does Maxime Labonne recommend before supervised fine-tuning (SFT)?",
      question,
      turns,
      defaults,
    );
    expect(check.failure).toBeUndefined();
    expect(check.overlap).toBeGreaterThanOrEqual(0.5);
    expect(check.overlap).toBeLessThan(1);
    expect(wordShare("Does Maxime Labonne use `trl.SFTTrainer` with LoRA (r=16) — and 4-bit models?")).toBe(1);
  });

  it("accepts the follow-up set's questions with the pronouns resolved, and refuses them swapped between cases", () => {
    const cases = readLlmTwinFollowUps();
    const resolved = (followUp: string, author: string) =>
      followUp.replace(/\bhis\b/gi, `${author}'s`).replace(/\b(he|him)\b/gi, author);
    for (const item of cases) {
      const turns = item.history.map((turn) => turn.content);
      const rewrite = resolved(item.followUp, item.author);
      expect(rewrite, item.id).not.toBe(item.followUp);
      expect(checkRewrite(rewrite, item.followUp, turns, defaults), rewrite).toMatchObject({ failure: undefined });
    }
    // Another case's standalone question shares too little with this conversation.
    const other = (index: number) => cases[(index + 7) % cases.length];
    const unrelated = cases.filter((item, index) => {
      const swapped = other(index);
      if (swapped === undefined) return false;
      const rewrite = resolved(swapped.followUp, swapped.author);
      const turns = item.history.map((turn) => turn.content);
      return checkRewrite(rewrite, item.followUp, turns, defaults).failure === "unrelated";
    });
    // 22 of 24: the two kept are the same author on a neighbouring topic (fine-tuning tools, 4-bit loading).
    expect(unrelated.length).toBeGreaterThanOrEqual(cases.length * 0.9);
  });

  it("refuses the demo model's gibberish as such", () => {
    for (const rewrite of demoRewrites) {
      const check = checkRewrite(rewrite, question, turns, defaults);
      expect(check.failure, rewrite).toBe("gibberish");
      expect(check.wordShare).toBeLessThan(defaults.minWordShare);
    }
  });

  it("refuses words mixed with a long run of symbols", () => {
    const check = checkRewrite("What does Maxime Labonne recommend ?!?!?!?! before SFT", question, turns, defaults);
    expect(check.failure).toBe("gibberish");
    expect(check.wordShare).toBeGreaterThan(0.8);
  });

  it("refuses a well-formed rewrite about something else as unrelated", () => {
    const check = checkRewrite("What is the best pizza recipe in Naples?", question, turns, defaults);
    expect(check).toEqual({ failure: "unrelated", wordShare: 1, overlap: 0 });
    // Made of plain words the follow-up and the history never used.
    const words = checkRewrite("sh thei suchjh woul time modiq firs", question, turns, defaults);
    expect(words.failure).toBe("unrelated");
  });

  it("refuses a rewrite without content words (nothing to search)", () => {
    expect(checkRewrite("What is it?", question, turns, defaults)).toMatchObject({ failure: "unrelated", overlap: 0 });
  });

  it("turns each check off at 0", () => {
    const off = { minWordShare: 0, minOverlap: 0 };
    expect(checkRewrite(demoRewrites[0] ?? "", question, turns, off).failure).toBeUndefined();
    expect(checkRewrite("pizza recipe", question, turns, { ...defaults, minOverlap: 0 }).failure).toBeUndefined();
  });

  it("compares stems without stop words, apostrophes or hyphens", () => {
    expect([...contentStems("What are Maxime's fine-tuning models?")].sort()).toEqual([
      "fine",
      "maxim",
      "model",
      "tun",
    ]);
  });

  it("handles other languages and scripts written without spaces", () => {
    const french = checkRewrite(
      "Que recommande Maxime Labonne avant le SFT ?",
      "Que recommande-t-il avant le SFT ?",
      ["Parle-moi des articles de Maxime Labonne"],
      defaults,
    );
    expect(french.failure).toBeUndefined();
    const chinese = checkRewrite(
      "马克西姆在SFT之前推荐什么？",
      "他在SFT之前推荐什么？",
      ["介绍一下马克西姆的文章"],
      defaults,
    );
    expect(chinese.failure).toBeUndefined();
    expect(chinese.overlap).toBeGreaterThan(0.8);
    const elsewhere = checkRewrite("今天天气怎么样？", "他在SFT之前推荐什么？", ["介绍一下马克西姆的文章"], defaults);
    expect(elsewhere.failure).toBe("unrelated");
  });

  it("does not crash on short, empty or odd inputs", () => {
    for (const [rewrite, asked] of [
      ["?", "?"],
      ["a", "b"],
      ["—", "Why?"],
      ["LoRA", "And LoRA?"],
      ["\u0000", ""],
      ["🙂 🙂", "🙂"],
    ] as const) {
      const check = checkRewrite(rewrite, asked, [], defaults);
      expect(check.wordShare).toBeGreaterThanOrEqual(0);
      expect(check.wordShare).toBeLessThanOrEqual(1);
      expect(check.overlap).toBeGreaterThanOrEqual(0);
      expect(check.overlap).toBeLessThanOrEqual(1);
    }
    expect(checkRewrite("LoRA", "And LoRA?", [], defaults).failure).toBeUndefined();
  });
});

describe("condenseQuestion", () => {
  const options = (text: string) => {
    const llm = fakeLanguageModel();
    llm.defaultText = text;
    return { llm, maxNewTokens: 32, maxChars: 200, check: defaults };
  };

  it("uses a sensible rewrite, with its measures", async () => {
    const result = await condenseQuestion(
      question,
      aboutMaxime,
      "llm",
      options("Standalone question: What does Maxime Labonne recommend before SFT?"),
    );
    expect(result).toEqual({
      question: "What does Maxime Labonne recommend before SFT?",
      outcome: "llm",
      rewrite: "What does Maxime Labonne recommend before SFT?",
      wordShare: 1,
      overlap: 1,
    });
  });

  it("falls back to the raw question for gibberish or an unrelated rewrite, keeping the rewrite", async () => {
    const gibberish = await condenseQuestion(question, aboutMaxime, "llm", options(demoRewrites[1] ?? ""));
    expect(gibberish).toMatchObject({ question, outcome: "gibberish", rewrite: demoRewrites[1]?.trim() });
    const unrelated = await condenseQuestion(question, aboutMaxime, "llm", options("How do I bake sourdough bread?"));
    expect(unrelated).toMatchObject({ question, outcome: "unrelated", rewrite: "How do I bake sourdough bread?" });
    expect(unrelated.overlap).toBe(0);
  });

  it("checks the length before the words", async () => {
    const result = await condenseQuestion(question, aboutMaxime, "llm", options("Maxime SFT ".repeat(30)));
    expect(result.outcome).toBe("too-long");
  });
});
