import { AppError } from "../../errors/index.js";

/** What chunking needs from an embedder's tokenizer. */
export type TokenCounter = {
  countTokens(text: string): number;
  /** The embedder's maximum input length in tokens: every chunk must fit. */
  maxInputTokens: number;
};

/** A piece of text with its exact token count (as counted by the TokenCounter). */
export type CountedText = { text: string; tokenCount: number };

const SENTENCE_END = /[.!?…][)"'”’\]]*\s+|\n+/g;
const WHITESPACE = /\s+/g;

/**
 * Splits `text` until every piece has at most `limit` tokens: at the sentence or line boundary
 * nearest the middle, else at the nearest whitespace, else between characters. Nothing is
 * truncated: the pieces together hold every non-space character of the input, in order.
 */
export function splitToFit(text: string, tokenizer: TokenCounter, limit: number, knownCount?: number): CountedText[] {
  const tokenCount = knownCount ?? tokenizer.countTokens(text);
  if (tokenCount <= limit) return [{ text, tokenCount }];
  const cut = findCut(text);
  if (cut <= 0 || cut >= text.length) {
    throw new AppError(
      "input_too_long",
      `cannot split text to fit ${limit} tokens: "${text.slice(0, 20)}" alone counts ${tokenCount} tokens`,
      { details: { limit, tokenCount } },
    );
  }
  const left = text.slice(0, cut).trim();
  const right = text.slice(cut).trim();
  const pieces: CountedText[] = [];
  if (left !== "") pieces.push(...splitToFit(left, tokenizer, limit));
  if (right !== "") pieces.push(...splitToFit(right, tokenizer, limit));
  return pieces;
}

function findCut(text: string): number {
  const middle = text.length / 2;
  const sentenceCut = nearestBoundary(text, SENTENCE_END, middle);
  if (sentenceCut !== undefined) return sentenceCut;
  const spaceCut = nearestBoundary(text, WHITESPACE, middle);
  if (spaceCut !== undefined) return spaceCut;
  let cut = Math.floor(middle);
  // Never split a surrogate pair.
  const code = text.charCodeAt(cut);
  if (code >= 0xdc00 && code <= 0xdfff) cut++;
  return cut;
}

/** End of the boundary match nearest `target`, strictly inside the text (or undefined). */
function nearestBoundary(text: string, pattern: RegExp, target: number): number | undefined {
  pattern.lastIndex = 0;
  let best: number | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (let match = pattern.exec(text); match !== null; match = pattern.exec(text)) {
    const position = match.index + match[0].length;
    if (match[0].length === 0) pattern.lastIndex++;
    if (position <= 0 || position >= text.length) continue;
    if (text.slice(0, position).trim() === "") continue;
    const distance = Math.abs(position - target);
    if (distance < bestDistance) {
      best = position;
      bestDistance = distance;
    } else if (position > target) {
      break;
    }
  }
  return best;
}
