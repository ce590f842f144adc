/**
 * The static embedder's tokenizer. A token is a run of letters/digits (joined by inner hyphens or
 * apostrophes, as in "fine-tuning" or "don't"), or one other non-space character (punctuation,
 * symbols, emoji). Text is lowercased first: the vocabulary is lowercase. `countTokens` counts
 * exactly the tokens `forEachToken` visits, so the length limit is about what gets embedded.
 */

const TOKEN = /[\p{L}\p{N}\p{M}_]+(?:['’-][\p{L}\p{N}\p{M}_]+)*|[^\s\p{L}\p{N}\p{M}_]/gu;
const WORD_START = /^[\p{L}\p{N}\p{M}_]/u;

export function normaliseForTokens(text: string): string {
  return text.toLowerCase();
}

export function countTokens(text: string): number {
  const pattern = new RegExp(TOKEN.source, TOKEN.flags);
  let count = 0;
  while (pattern.exec(text) !== null) count++;
  return count;
}

/** Calls `visit` for every token of the lowercased `text`, with whether it is a word (not punctuation). */
export function forEachToken(text: string, visit: (token: string, isWord: boolean) => void): void {
  const pattern = new RegExp(TOKEN.source, TOKEN.flags);
  const lowered = normaliseForTokens(text);
  for (let match = pattern.exec(lowered); match !== null; match = pattern.exec(lowered)) {
    const token = match[0];
    visit(token.includes("’") ? token.replaceAll("’", "'") : token, isWordToken(token));
  }
}

/** Lowercase tokens of `text` (for tests and diagnostics). */
export function tokenize(text: string): string[] {
  const tokens: string[] = [];
  forEachToken(text, (token) => tokens.push(token));
  return tokens;
}

function isWordToken(token: string): boolean {
  const code = token.charCodeAt(0);
  if ((code >= 97 && code <= 122) || (code >= 48 && code <= 57) || code === 95) return true;
  if (code < 128) return false;
  return WORD_START.test(token);
}
