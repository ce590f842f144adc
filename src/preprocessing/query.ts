import { cleanPlainText } from "./cleaning/clean-document.js";

/**
 * Query-side cleaning, the same inline rules as documents: Unicode compatibility forms (styled
 * 𝗯𝗼𝗹𝗱 letters) normalised, emoji and control characters removed, link syntax reduced to its
 * text, whitespace collapsed. Code in backticks, numbers, punctuation and accents are kept.
 */
export function cleanQuery(text: string): string {
  return cleanPlainText(text);
}
