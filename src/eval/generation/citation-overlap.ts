/**
 * Citation overlap, a judge-free groundedness signal: the share of the answer's sentences with
 * strong lexical support in one retrieved source (at least `threshold` of the sentence's distinct
 * content words occur in that source). Sentences with fewer than `minWords` content words
 * (greetings, fragments) are left out; with none left the score is missing.
 */
import { FUNCTION_WORDS } from "../voice/features.js";
import type { MetricScore } from "./judge.js";

const STOP = new Set(FUNCTION_WORDS);
const WORD = /\p{L}[\p{L}\p{N}'-]*|\p{N}+/gu;

export const DEFAULT_CITATION_OVERLAP = { threshold: 0.6, minWords: 3 } as const;

function contentWords(text: string): Set<string> {
  const words = new Set<string>();
  for (const match of text.toLowerCase().matchAll(WORD)) {
    const word = match[0];
    if (word.length >= 3 && !STOP.has(word)) words.add(word);
  }
  return words;
}

export function splitSentences(text: string): string[] {
  return text
    .split(/(?<=[.!?])\s+|\n+/)
    .map((sentence) => sentence.trim())
    .filter((sentence) => sentence !== "");
}

export function citationOverlap(
  answer: string,
  sources: readonly string[],
  options: { threshold?: number; minWords?: number } = {},
): MetricScore {
  const threshold = options.threshold ?? DEFAULT_CITATION_OVERLAP.threshold;
  const minWords = options.minWords ?? DEFAULT_CITATION_OVERLAP.minWords;
  if (sources.length === 0) return { value: null, reason: "no context was retrieved" };
  const sourceWords = sources.map(contentWords);
  let considered = 0;
  let supported = 0;
  for (const sentence of splitSentences(answer)) {
    const words = contentWords(sentence);
    if (words.size < minWords) continue;
    considered++;
    const best = Math.max(
      ...sourceWords.map((source) => [...words].filter((word) => source.has(word)).length / words.size),
    );
    if (best >= threshold) supported++;
  }
  if (considered === 0) return { value: null, reason: `no sentence of the answer has ${minWords} content words` };
  return { value: supported / considered, detail: `${supported}/${considered} sentences supported` };
}
