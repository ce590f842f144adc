/**
 * Test helper: a tokenizer that counts whitespace-separated words (plus optional special tokens
 * per input, like the [CLS]/[SEP] pair of BERT-style embedders). Real embedders come from
 * src/embedding; chunking only needs countTokens and maxInputTokens.
 */
import type { TokenCounter } from "../chunking/token-counter.js";

const WORD = /\S+/g;

export function wordTokenCounter(maxInputTokens: number, specialTokens = 0): TokenCounter & { calls: number } {
  const counter = {
    maxInputTokens,
    calls: 0,
    countTokens(text: string): number {
      counter.calls++;
      return (text.match(WORD)?.length ?? 0) + specialTokens;
    },
  };
  return counter;
}

/** Counts every character as a token: a tokenizer far finer than words, to stress splitting. */
export function characterTokenCounter(maxInputTokens: number): TokenCounter {
  return { maxInputTokens, countTokens: (text: string) => [...text].length };
}
