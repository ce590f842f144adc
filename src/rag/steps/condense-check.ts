/**
 * The sanity check of a condensed question, deterministic and cheap (no second LLM call). A
 * standalone question is made of words, and it carries over the words of the follow-up and of the
 * conversation it was rewritten from ("What does he recommend before SFT?" + history about Maxime
 * Labonne → "What does Maxime Labonne recommend before SFT?"). So a rewrite is refused:
 * - as "gibberish" when less than `minWordShare` of its whitespace-separated tokens are words
 *   (letters, digits and marks of any script, with inner connectors such as "fine-tuning",
 *   "trl.SFTTrainer", "r=16"; surrounding punctuation allowed; a replacement character U+FFFD or a
 *   control character makes a token a non-word; lone dashes are not counted), or when it holds a run
 *   of MAX_SYMBOL_RUN or more symbols;
 * - as "unrelated" when less than `minOverlap` of its content words are found among the content
 *   words of the follow-up and the history (lower-cased, English stop words dropped, compared on
 *   stems as title boosting does; scripts written without spaces, such as Chinese or Japanese,
 *   compared on character pairs). A rewrite without content words has overlap 0.
 */
import { ENGLISH_STOPWORDS } from "../../embedding/static/stopwords.js";
import { stemWord } from "./title-boost.js";

/** Consecutive characters that are neither letters, digits, marks nor spaces from which a rewrite is gibberish. */
export const MAX_SYMBOL_RUN = 6;

export type RewriteCheckOptions = {
  /** Least share of word tokens in the rewrite (0 turns this check off, the symbol run included). */
  minWordShare: number;
  /** Least share of the rewrite's content words found in the follow-up or the history (0 turns it off). */
  minOverlap: number;
};

export type RewriteCheck = {
  /** undefined: the rewrite passes. */
  failure: "gibberish" | "unrelated" | undefined;
  /** Share of word tokens (1 when the rewrite has no token to count). */
  wordShare: number;
  /** Share of the rewrite's content words found in the follow-up or the history. */
  overlap: number;
};

const INVALID = /[\uFFFD\p{Cc}\p{Co}\p{Cn}\p{Cs}]/u;
const WORD_TOKEN = /^[\p{L}\p{M}\p{N}]+(?:[-'’._/+:=@#&][\p{L}\p{M}\p{N}]+)*$/u;
const EDGE_PUNCTUATION = /^[\p{P}\p{S}]+|[\p{P}\p{S}]+$/gu;
const LONE_DASH = /^[\p{Pd}&/]$/u;
const SYMBOL_RUN = new RegExp(`[^\\p{L}\\p{M}\\p{N}\\s]{${MAX_SYMBOL_RUN},}`, "u");
const LETTERS = /[\p{L}\p{M}\p{N}]+/gu;
const UNSPACED = /[\p{sc=Han}\p{sc=Hiragana}\p{sc=Katakana}\p{sc=Thai}\p{sc=Lao}\p{sc=Khmer}\p{sc=Myanmar}]+/gu;

/** Share of the text's whitespace-separated tokens that are words. */
export function wordShare(text: string): number {
  let words = 0;
  let counted = 0;
  for (const token of text.split(/\s+/)) {
    if (token === "" || LONE_DASH.test(token)) continue;
    counted += 1;
    if (INVALID.test(token)) continue;
    if (WORD_TOKEN.test(token.replace(EDGE_PUNCTUATION, ""))) words += 1;
  }
  return counted === 0 ? 1 : words / counted;
}

/** The text's content-word stems (character pairs for scripts written without spaces). */
export function contentStems(text: string): Set<string> {
  const stems = new Set<string>();
  const lower = text.toLowerCase();
  for (const run of lower.matchAll(UNSPACED)) {
    const chars = [...run[0]];
    if (chars.length === 1) stems.add(run[0]);
    for (let index = 0; index + 1 < chars.length; index += 1) stems.add(`${chars[index]}${chars[index + 1]}`);
  }
  for (const match of lower.replace(UNSPACED, " ").matchAll(LETTERS)) {
    const word = match[0];
    if (word.length < 2 || ENGLISH_STOPWORDS.has(word)) continue;
    stems.add(stemWord(word));
  }
  return stems;
}

/** Checks `rewrite` against the follow-up `question` and the conversation's `turns` (their contents). */
export function checkRewrite(
  rewrite: string,
  question: string,
  turns: readonly string[],
  options: RewriteCheckOptions,
): RewriteCheck {
  const share = wordShare(rewrite);
  const stems = contentStems(rewrite);
  const known = contentStems([question, ...turns].join("\n"));
  let found = 0;
  for (const stem of stems) if (known.has(stem)) found += 1;
  const overlap = stems.size === 0 ? 0 : found / stems.size;
  let failure: RewriteCheck["failure"];
  if (options.minWordShare > 0 && (share < options.minWordShare || SYMBOL_RUN.test(rewrite))) failure = "gibberish";
  else if (overlap < options.minOverlap) failure = "unrelated";
  return { failure, wordShare: share, overlap };
}
