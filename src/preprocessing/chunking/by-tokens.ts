/**
 * Token-window chunking with overlap (posts and repositories): windows of whole words sized to
 * `chunkTokens` of the embedder's tokenizer, each starting `overlapTokens` before the end of the
 * previous one. Window sizes come from the text's measured tokens-per-word ratio and are then
 * verified with the tokenizer (a window over the target shrinks until it fits), so every chunk is
 * within the limit while the tokenizer is called about once per chunk.
 */
import type { TokenChunkingParameters } from "../parameters.js";
import { type CountedText, splitToFit, type TokenCounter } from "./token-counter.js";

const WORD = /\S+/g;

export function chunkByTokens(
  text: string,
  parameters: TokenChunkingParameters,
  tokenizer: TokenCounter,
  tokenLimit: number,
): CountedText[] {
  const target = Math.max(1, Math.min(parameters.chunkTokens, tokenLimit));
  const totalTokens = tokenizer.countTokens(text);
  if (totalTokens <= target) return text.trim() === "" ? [] : [{ text: text.trim(), tokenCount: totalTokens }];

  const starts: number[] = [];
  const ends: number[] = [];
  WORD.lastIndex = 0;
  for (let match = WORD.exec(text); match !== null; match = WORD.exec(text)) {
    starts.push(match.index);
    ends.push(match.index + match[0].length);
  }
  const wordCount = starts.length;
  if (wordCount === 0) return [];
  const overhead = Math.max(0, tokenizer.countTokens(""));
  const tokensPerWord = Math.max((totalTokens - overhead) / wordCount, 1e-6);
  const windowWords = Math.max(1, Math.floor((target - overhead) / tokensPerWord));
  const overlapWords = Math.min(
    Math.max(0, Math.round(Math.min(parameters.overlapTokens, target / 2) / tokensPerWord)),
    windowWords - 1,
  );

  const chunks: CountedText[] = [];
  let first = 0;
  while (first < wordCount) {
    let count = Math.min(windowWords, wordCount - first);
    let piece = text.slice(starts[first] ?? 0, ends[first + count - 1] ?? text.length);
    let tokens = tokenizer.countTokens(piece);
    while (tokens > target && count > 1) {
      count = Math.max(1, Math.min(count - 1, Math.floor((count * target) / tokens)));
      piece = text.slice(starts[first] ?? 0, ends[first + count - 1] ?? text.length);
      tokens = tokenizer.countTokens(piece);
    }
    if (tokens > target) chunks.push(...splitToFit(piece, tokenizer, target, tokens));
    else chunks.push({ text: piece, tokenCount: tokens });
    const next = first + count;
    if (next >= wordCount) break;
    first = Math.max(first + 1, next - Math.min(overlapWords, count - 1));
  }
  return chunks;
}
