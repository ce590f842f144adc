/**
 * The context given to the LLM: the kept sources, best first, within a token budget. A source
 * that does not fit whole is cut at a sentence boundary (never mid-sentence); once the budget is
 * spent the rest is left out.
 */
import type { RagSource } from "../types.js";

export type TokenCounter = (text: string) => number;

/** A rough count for when the LLM's tokenizer is not at hand: ~4 characters per token. */
export const estimateTokens: TokenCounter = (text) => Math.ceil(text.length / 4);

export function splitSentences(text: string): string[] {
  return text
    .split(/(?<=[.!?…])\s+|\n{2,}/u)
    .map((sentence) => sentence.trim())
    .filter((sentence) => sentence !== "");
}

export type BuiltContext = { text: string; tokens: number; sourcesUsed: number; truncated: boolean };

function sourceHeader(source: RagSource, index: number): string {
  return `[${index + 1}] ${source.title} (${source.category}, by ${source.author.fullName})`;
}

export function buildContext(sources: readonly RagSource[], budget: number, countTokens: TokenCounter): BuiltContext {
  const parts: string[] = [];
  let tokens = 0;
  let sourcesUsed = 0;
  let truncated = false;
  for (const [index, source] of sources.entries()) {
    const header = sourceHeader(source, index);
    const whole = `${header}\n${source.text}`;
    const wholeTokens = countTokens(whole);
    if (tokens + wholeTokens + 1 <= budget) {
      parts.push(whole);
      tokens += wholeTokens + 1;
      sourcesUsed += 1;
      continue;
    }
    truncated = true;
    let remaining = budget - tokens - countTokens(`${header}\n`) - 1;
    const kept: string[] = [];
    for (const sentence of splitSentences(source.text)) {
      const cost = countTokens(`${sentence} `);
      if (cost > remaining) break;
      kept.push(sentence);
      remaining -= cost;
    }
    if (kept.length > 0) {
      const text = `${header}\n${kept.join(" ")}`;
      parts.push(text);
      tokens += countTokens(text) + 1;
      sourcesUsed += 1;
    }
    break;
  }
  return { text: parts.join("\n\n"), tokens, sourcesUsed, truncated };
}
