/**
 * Client-side sparse term vectors for Qdrant's lexical search. Text is lower-cased, stripped of
 * accents, split into words, English stop words removed; each term is hashed (FNV-1a, 32 bit) to
 * a sparse index. Document values are BM25's saturated term frequency; the collection's sparse
 * vector has `modifier: "idf"`, so Qdrant multiplies in the inverse document frequency at query
 * time: together, BM25. Query values are 1 per distinct term.
 */

export type SparseVector = { indices: number[]; values: number[] };

export type SparseEncoderOptions = {
  /** BM25 term-frequency saturation. Default 1.2. */
  k1?: number;
  /** BM25 length normalisation. Default 0.75. */
  b?: number;
  /** Average document length in terms assumed by the length normalisation. Default 256. */
  averageLength?: number;
};

const STOP_WORDS = new Set(
  (
    "a an and are as at be but by for from has have he her his i if in into is it its me my no not of on or " +
    "our she so such that the their them then there these they this to too was we were what when where which " +
    "who will with you your"
  ).split(" "),
);

const MAX_TERM_LENGTH = 40;

/** Lower-cased, accent-free words of `text`, stop words removed. */
export function tokenize(text: string): string[] {
  const words = text
    .normalize("NFKD")
    .replace(/\p{Mn}+/gu, "")
    .toLowerCase()
    .split(/[^\p{L}\p{N}_]+/u);
  return words.filter((word) => word.length > 0 && word.length <= MAX_TERM_LENGTH && !STOP_WORDS.has(word));
}

/** FNV-1a 32-bit hash of the UTF-16 code units of `term`: a stable uint32 sparse index. */
export function termIndex(term: string): number {
  let hash = 0x811c9dc5;
  for (let position = 0; position < term.length; position++) {
    hash ^= term.charCodeAt(position);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

function countTerms(terms: readonly string[]): Map<number, number> {
  const counts = new Map<number, number>();
  for (const term of terms) {
    const index = termIndex(term);
    counts.set(index, (counts.get(index) ?? 0) + 1);
  }
  return counts;
}

function sorted(counts: Map<number, number>, value: (count: number) => number): SparseVector {
  const indices = [...counts.keys()].sort((left, right) => left - right);
  return { indices, values: indices.map((index) => value(counts.get(index) ?? 0)) };
}

export function encodeDocument(text: string, options: SparseEncoderOptions = {}): SparseVector {
  const k1 = options.k1 ?? 1.2;
  const b = options.b ?? 0.75;
  const averageLength = options.averageLength ?? 256;
  const terms = tokenize(text);
  const lengthNorm = 1 - b + (b * terms.length) / averageLength;
  return sorted(countTerms(terms), (count) => (count * (k1 + 1)) / (count + k1 * lengthNorm));
}

export function encodeQuery(text: string): SparseVector {
  return sorted(countTerms(tokenize(text)), () => 1);
}
