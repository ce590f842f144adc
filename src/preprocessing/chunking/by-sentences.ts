/**
 * Article chunking: whole sentences packed into chunks of minCharacters..maxCharacters (the
 * reference's 1,000–2,000), then split further wherever a chunk exceeds the token limit.
 * Unlike the reference, nothing is dropped: a short last chunk is rebalanced with its
 * predecessor, or kept as it is; a sentence longer than maxCharacters is cut at whitespace.
 */
import type { SentenceChunkingParameters } from "../parameters.js";
import { type Segment, segmentSentences } from "./sentences.js";
import { type CountedText, splitToFit, type TokenCounter } from "./token-counter.js";

export function chunkBySentences(
  text: string,
  parameters: SentenceChunkingParameters,
  tokenizer: TokenCounter,
  tokenLimit: number,
): CountedText[] {
  const { maxCharacters, minCharacters } = parameters;
  const segments = splitLongSegments(text, segmentSentences(text), maxCharacters);
  const groups: Segment[] = [];
  let current: Segment | undefined;
  for (const segment of segments) {
    if (current === undefined) {
      current = { ...segment };
      continue;
    }
    if (trimmedLength(text, current.start, segment.end) <= maxCharacters) {
      current.end = segment.end;
    } else {
      groups.push(current);
      current = { ...segment };
    }
  }
  if (current !== undefined) groups.push(current);
  rebalanceLastGroup(text, groups, segments, minCharacters, maxCharacters);

  const chunks: CountedText[] = [];
  for (const group of groups) {
    const chunkText = text.slice(group.start, group.end).trim();
    if (chunkText === "") continue;
    chunks.push(...splitToFit(chunkText, tokenizer, tokenLimit));
  }
  return chunks;
}

function trimmedLength(text: string, start: number, end: number): number {
  let from = start;
  let to = end;
  while (from < to && isSpace(text.charCodeAt(from))) from++;
  while (to > from && isSpace(text.charCodeAt(to - 1))) to--;
  return to - from;
}

function isSpace(code: number): boolean {
  return code === 32 || code === 10 || code === 9 || code === 13;
}

/** A segment longer than the maximum is cut at the last whitespace before the limit. */
function splitLongSegments(text: string, segments: readonly Segment[], maxCharacters: number): Segment[] {
  const result: Segment[] = [];
  for (const segment of segments) {
    let { start } = segment;
    while (segment.end - start > maxCharacters) {
      let cut = text.lastIndexOf(" ", start + maxCharacters);
      const newline = text.lastIndexOf("\n", start + maxCharacters);
      if (newline > cut) cut = newline;
      if (cut <= start) cut = start + maxCharacters;
      else cut += 1;
      const code = text.charCodeAt(cut);
      if (code >= 0xdc00 && code <= 0xdfff) cut++;
      result.push({ start, end: cut });
      start = cut;
    }
    if (segment.end > start) result.push({ start, end: segment.end });
  }
  return result;
}

/**
 * When the last chunk is shorter than the minimum, move sentences from the previous chunk so
 * both are as even as possible (both stay within the maximum).
 */
function rebalanceLastGroup(
  text: string,
  groups: Segment[],
  segments: readonly Segment[],
  minCharacters: number,
  maxCharacters: number,
): void {
  if (groups.length < 2) return;
  const last = groups[groups.length - 1] as Segment;
  const previous = groups[groups.length - 2] as Segment;
  if (trimmedLength(text, last.start, last.end) >= minCharacters) return;
  const total = trimmedLength(text, previous.start, last.end);
  let best: number | undefined;
  let bestImbalance = Number.POSITIVE_INFINITY;
  for (const segment of segments) {
    if (segment.end <= previous.start || segment.end >= last.end) continue;
    const left = trimmedLength(text, previous.start, segment.end);
    const right = trimmedLength(text, segment.end, last.end);
    if (left > maxCharacters || right > maxCharacters) continue;
    const imbalance = Math.abs(left - total / 2);
    if (imbalance < bestImbalance) {
      best = segment.end;
      bestImbalance = imbalance;
    }
  }
  if (best === undefined || best === last.start) return;
  previous.end = best;
  last.start = best;
}
