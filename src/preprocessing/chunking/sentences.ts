/**
 * Sentence segmentation for chunking. Segments are contiguous slices of the text (each keeps the
 * whitespace that follows it), so a chunk is always an exact substring of the cleaned document.
 * A boundary is a sentence end (. ! ? … followed by space and not by a lower-case letter, outside
 * known abbreviations) or a line break.
 */

export type Segment = { start: number; end: number };

const BOUNDARY = /[.!?…]+[)"'”’\]]*[ \t]+(?=[^\s\p{Ll}])|[ \t]*\n+/gu;
const ABBREVIATION =
  /(?:^|[\s(])(?:e\.g|i\.e|etc|vs|cf|al|Fig|fig|Eq|eq|No|no|Mr|Mrs|Ms|Dr|Prof|Sr|Jr|St|approx|incl|resp|Inc|Ltd|Co|U\.S|p|pp|ch|sec|vol|ed|eds)\.$/;

export function segmentSentences(text: string): Segment[] {
  const segments: Segment[] = [];
  let start = 0;
  BOUNDARY.lastIndex = 0;
  for (let match = BOUNDARY.exec(text); match !== null; match = BOUNDARY.exec(text)) {
    const end = match.index + match[0].length;
    if (!match[0].includes("\n") && isAbbreviation(text, match.index, match[0])) continue;
    if (end > start) {
      segments.push({ start, end });
      start = end;
    }
  }
  if (start < text.length) segments.push({ start, end: text.length });
  return segments;
}

function isAbbreviation(text: string, index: number, boundary: string): boolean {
  if (!boundary.startsWith(".")) return false;
  const before = text.slice(Math.max(0, index - 8), index + 1);
  return ABBREVIATION.test(before);
}
