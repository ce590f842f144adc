/**
 * The static embedder's tokenizer. A token is a run of word characters (letters, digits, marks,
 * "_"), possibly joined by inner hyphens or apostrophes ("fine-tuning", "don't"), or one other
 * non-space character (punctuation, symbols, emoji) — the same tokens as
 * TOKEN_PATTERN below, found by a hand-written scanner that is several times faster than the
 * Unicode regular expression (it classifies characters through a lookup table). Text is lowercased
 * first: the vocabulary is lowercase. `countTokens` counts exactly the tokens `forEachToken`
 * visits, so the length limit is about what gets embedded.
 */

/** The specification of a token (the scanner is tested against it). */
export const TOKEN_PATTERN = /[\p{L}\p{N}\p{M}_]+(?:['’-][\p{L}\p{N}\p{M}_]+)*|[^\s\p{L}\p{N}\p{M}_]/gu;

const UNKNOWN = 0;
const WORD = 1;
const SPACE = 2;
const OTHER = 3;
const WORD_CHARACTER = /^[\p{L}\p{N}\p{M}_]$/u;
const SPACE_CHARACTER = /^\s$/u;
const bmpClasses = new Uint8Array(65536);

function classifyCodePoint(codePoint: number): number {
  const character = String.fromCodePoint(codePoint);
  if (WORD_CHARACTER.test(character)) return WORD;
  if (SPACE_CHARACTER.test(character)) return SPACE;
  return OTHER;
}

/** Class of the character starting at `position`, and its length in code units (2 for astral). */
function classAt(text: string, position: number): number {
  const code = text.charCodeAt(position);
  if (code < 0xd800 || code > 0xdbff) {
    let known = bmpClasses[code] as number;
    if (known === UNKNOWN) {
      known = classifyCodePoint(code);
      bmpClasses[code] = known;
    }
    return known;
  }
  const codePoint = text.codePointAt(position) as number;
  return codePoint > 0xffff ? classifyCodePoint(codePoint) | 4 : OTHER; // | 4: two code units
}

function isJoiner(code: number): boolean {
  return code === 39 || code === 45 || code === 0x2019;
}

/** Where nextToken found a token: [start, end) and whether it is a word. Reused between calls (no allocation). */
export type TokenCursor = { start: number; end: number; isWord: boolean };

export function createTokenCursor(): TokenCursor {
  return { start: 0, end: 0, isWord: false };
}

/**
 * Finds the first token at or after `position`, writing it into `cursor`; false when there is none.
 * Callers loop with `position = cursor.end`. (A loop instead of a visitor callback: the hot paths
 * stay monomorphic and allocate nothing.)
 */
export function nextToken(text: string, position: number, cursor: TokenCursor): boolean {
  const length = text.length;
  while (position < length) {
    const kind = classAt(text, position);
    const width = kind & 4 ? 2 : 1;
    const base = kind & 3;
    if (base === SPACE) {
      position += width;
      continue;
    }
    if (base !== WORD) {
      cursor.start = position;
      cursor.end = position + width;
      cursor.isWord = false;
      return true;
    }
    const start = position;
    position += width;
    for (;;) {
      while (position < length) {
        const next = classAt(text, position);
        if ((next & 3) !== WORD) break;
        position += next & 4 ? 2 : 1;
      }
      // An inner joiner continues the word only when a word character follows it.
      if (position + 1 < length && isJoiner(text.charCodeAt(position)) && (classAt(text, position + 1) & 3) === WORD) {
        position += 1;
        continue;
      }
      break;
    }
    cursor.start = start;
    cursor.end = position;
    cursor.isWord = true;
    return true;
  }
  return false;
}

/**
 * Visits every token of `text` as [start, end) offsets with whether it is a word. `text` should
 * already be lowercased when the token strings matter.
 */
export function scanTokens(text: string, visit: (start: number, end: number, isWord: boolean) => void): void {
  const cursor = createTokenCursor();
  for (let position = 0; nextToken(text, position, cursor); position = cursor.end) {
    visit(cursor.start, cursor.end, cursor.isWord);
  }
}

export function normaliseForTokens(text: string): string {
  return text.toLowerCase();
}

const countingCursor = createTokenCursor();

export function countTokens(text: string): number {
  let count = 0;
  for (let position = 0; nextToken(text, position, countingCursor); position = countingCursor.end) count++;
  return count;
}

/** Calls `visit` for every token of the lowercased `text`, with whether it is a word (not punctuation). */
export function forEachToken(text: string, visit: (token: string, isWord: boolean) => void): void {
  const lowered = normaliseForTokens(text);
  scanTokens(lowered, (start, end, isWord) => {
    const token = lowered.slice(start, end);
    visit(isWord && token.includes("’") ? token.replaceAll("’", "'") : token, isWord);
  });
}

/** Lowercase tokens of `text` (for tests and diagnostics). */
export function tokenize(text: string): string[] {
  const tokens: string[] = [];
  forEachToken(text, (token) => tokens.push(token));
  return tokens;
}
