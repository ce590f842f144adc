/**
 * Sentence segmentation for chunking. Segments are contiguous slices of the text (each keeps the
 * whitespace that follows it), so a chunk is always an exact substring of the cleaned document.
 * A boundary is a sentence end (. ! ? … followed by space and not by a lower-case letter, outside
 * known abbreviations) or a line break.
 */

export type Segment = { start: number; end: number };

const ABBREVIATION =
  /(?:^|[\s(])(?:e\.g|i\.e|etc|vs|cf|al|Fig|fig|Eq|eq|No|no|Mr|Mrs|Ms|Dr|Prof|Sr|Jr|St|approx|incl|resp|Inc|Ltd|Co|U\.S|p|pp|ch|sec|vol|ed|eds)\.$/;
const LOWERCASE = /\p{Ll}/u;
const CANDIDATE = /[.!?…\n]/g;

/** A hand-written scanner (one pass over char codes): this runs on every character ingested. */
export function segmentSentences(text: string): Segment[] {
  const segments: Segment[] = [];
  const length = text.length;
  let start = 0;
  CANDIDATE.lastIndex = 0;
  for (let index = 0; index < length; index++) {
    // Jump to the next character that can end a segment (a native scan).
    CANDIDATE.lastIndex = index;
    const candidate = CANDIDATE.exec(text);
    if (candidate === null) break;
    index = candidate.index;
    const code = text.charCodeAt(index);
    if (code === 10) {
      let end = index + 1;
      while (end < length && text.charCodeAt(end) === 10) end++;
      segments.push({ start, end });
      start = end;
      index = end - 1;
      continue;
    }
    if (!isTerminal(code)) continue;
    let after = index + 1;
    while (after < length && (isTerminal(text.charCodeAt(after)) || isCloser(text.charCodeAt(after)))) after++;
    let next = after;
    while (next < length && isBlank(text.charCodeAt(next))) next++;
    if (next === after || next >= length || text.charCodeAt(next) === 10) {
      index = after - 1;
      continue;
    }
    const following = text.charCodeAt(next);
    const lowercase = following < 128 ? following >= 97 && following <= 122 : LOWERCASE.test(text.charAt(next));
    if (lowercase || (code === 46 && ABBREVIATION.test(text.slice(Math.max(0, index - 8), index + 1)))) {
      index = next - 1;
      continue;
    }
    segments.push({ start, end: next });
    start = next;
    index = next - 1;
  }
  if (start < length) segments.push({ start, end: length });
  return segments;
}

/** . ! ? … */
function isTerminal(code: number): boolean {
  return code === 46 || code === 33 || code === 63 || code === 0x2026;
}

/** ) " ' ” ’ ] */
function isCloser(code: number): boolean {
  return code === 41 || code === 34 || code === 39 || code === 0x201d || code === 0x2019 || code === 93;
}

function isBlank(code: number): boolean {
  return code === 32 || code === 9;
}
