/**
 * Inline cleaning of one line of prose (never applied to code): link and image syntax, HTML tags,
 * emphasis markers, markdown escapes, emoji and runs of spaces. Inline code spans (`...`) are
 * kept verbatim. Every regular expression is compiled once and is linear (no nested quantifiers).
 */

const INLINE_CODE = /(`+)([^`\n]|[^`\n][^\n]*?[^`\n])\1(?!`)/g;
const MARKDOWN_IMAGE = /!\[[^\]\n]*\]\([^)\n]*\)/g;
const MARKDOWN_LINK = /\[([^\]\n]*)\]\((?:[^()\s]+|[^()\s]*\([^()\s]*\)[^()\s]*)(?:\s+"[^"\n]*")?\)/g;
const REFERENCE_LINK = /\[([^\]\n]+)\]\[[^\]\n]*\]/g;
const AUTOLINK = /<((?:https?|mailto):[^>\s]+)>/g;
const HTML_IMAGE = /<img\b[^>]*>/gi;
const HTML_ANCHOR_OPEN = /<a\b[^>]*>/gi;
const HTML_CLOSING_TAG = /<\/[a-zA-Z][a-zA-Z0-9-]*\s*>/g;
const HTML_TAG = /<[a-zA-Z][a-zA-Z0-9-]*(?:\s[^<>]*)?\/?>/g;
const HTML_ENTITY = /&(?:#(\d{1,7})|#x([0-9a-fA-F]{1,6})|([a-zA-Z]{2,8}));/g;
const BOLD = /(\*\*|__)(?=\S)([^*\n]*?\S)\1/g;
const ITALIC_STAR = /(^|[^\w*])\*(?=\S)([^*\n]*?\S)\*(?![\w*])/g;
const ITALIC_UNDERSCORE = /(^|[^\w])_(?=\S)([^_\n]*?\S)_(?!\w)/g;
const EMPHASIS_RUN = /\*{2,}|_{2,}/g;
const ASTERISK_PILE = /\*{4,}/g;
const MARKDOWN_ESCAPE = /\\([\\`*_{}[\]()#+\-.!|>~<])/g;
const EMOJI =
  /\p{Extended_Pictographic}|\p{Emoji_Modifier}|[\u{1F1E6}-\u{1F1FF}]|[\u{E0020}-\u{E007F}]|\u200D|\uFE0E|\uFE0F|\u20E3/gu;
// biome-ignore lint/suspicious/noControlCharactersInRegex: removing control characters is the point
const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\u200B\u200C\u2060\uFEFF\u00AD]/g;
/** One scan for every character that may be removed (the replacer decides precisely). */
const INVISIBLE_OR_EMOJI_RANGES = [
  "\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F-\\u009F",
  "\\u00A9\\u00AD\\u00AE\\u200B-\\u200D\\u203C-\\u3299\\uFE0E\\uFE0F\\uFEFF",
  "\\u{1F000}-\\u{1FAFF}\\u{E0020}-\\u{E007F}",
].join("");
const INVISIBLE_OR_EMOJI = new RegExp(`[${INVISIBLE_OR_EMOJI_RANGES}]`, "gu");
const SPACES = / {2,}|[\t\u00A0\u2000-\u200A\u202F\u205F\u3000][ \t\u00A0\u2000-\u200A\u202F\u205F\u3000]*/g;
const SPACE_BEFORE_PUNCTUATION = / +(?=[,;:!?](?:\s|$))/gm;
const MARKUP_HINT = /[<&\]\\*_]/;
const SPACE_BEFORE_PUNCTUATION_HINT = / [,;:!?]/;
const WORD_END = /[\p{L}\p{N})\]"'”’]/u;

const NAMED_ENTITIES: Record<string, string> = {
  amp: "&",
  lt: "<",
  gt: ">",
  quot: '"',
  apos: "'",
  nbsp: " ",
  mdash: "—",
  ndash: "–",
  hellip: "…",
  rsquo: "’",
  lsquo: "‘",
  rdquo: "”",
  ldquo: "“",
  copy: "©",
  reg: "®",
  trade: "™",
};

/** Removes emoji, zero-width and control characters (keeps letters of every script). */
export function removeEmoji(text: string): string {
  return text.replace(EMOJI, "").replace(CONTROL, "");
}

export function collapseSpaces(text: string): string {
  return text.replace(SPACES, " ");
}

/** Cleans one prose line; inline code spans are left untouched. */
export function cleanInline(line: string): string {
  if (!line.includes("`")) return cleanProseSegment(line);
  if (line.includes(PLACEHOLDER_START)) return cleanAroundCodeSpans(line);
  // Mask code spans with private-use placeholders so the prose rules run once over the whole text.
  const spans: string[] = [];
  const masked = line.replace(INLINE_CODE, (span) => `${PLACEHOLDER_START}${spans.push(span) - 1}${PLACEHOLDER_END}`);
  return cleanProseSegment(masked).replace(
    PLACEHOLDER,
    (placeholder, index: string) => spans[Number(index)] ?? placeholder,
  );
}

const PLACEHOLDER_START = "\uE000";
const PLACEHOLDER_END = "\uE001";
const PLACEHOLDER = /\uE000(\d+)\uE001/g;

/** Slower path for text that already contains the placeholder characters: segment by segment. */
function cleanAroundCodeSpans(line: string): string {
  let result = "";
  let last = 0;
  INLINE_CODE.lastIndex = 0;
  for (let match = INLINE_CODE.exec(line); match !== null; match = INLINE_CODE.exec(line)) {
    result += cleanProseSegment(line.slice(last, match.index));
    result += match[0];
    last = match.index + match[0].length;
  }
  result += cleanProseSegment(line.slice(last));
  return result;
}

function cleanProseSegment(segment: string): string {
  if (segment.length === 0) return segment;
  let text = segment;
  if (MARKUP_HINT.test(text)) {
    if (text.includes("<") || text.includes("&")) {
      text = text
        .replace(HTML_IMAGE, "")
        .replace(HTML_ANCHOR_OPEN, "")
        .replace(AUTOLINK, "$1")
        .replace(HTML_CLOSING_TAG, "")
        .replace(HTML_TAG, " ");
      text = text.replace(HTML_ENTITY, decodeEntity);
    }
    if (text.includes("](") || text.includes("][")) {
      text = text.replace(MARKDOWN_IMAGE, "").replace(MARKDOWN_LINK, "$1").replace(REFERENCE_LINK, "$1");
    }
    if (text.includes("\\")) text = text.replace(MARKDOWN_ESCAPE, "$1");
    if (text.includes("*") || text.includes("_")) {
      text = text.replace(BOLD, "$2").replace(ITALIC_STAR, "$1$2").replace(ITALIC_UNDERSCORE, "$1$2");
      if (text.includes("****")) text = text.replace(ASTERISK_PILE, " ");
      if (text.includes("**") || text.includes("__")) text = text.replace(EMPHASIS_RUN, removeStrayEmphasis);
    }
  }
  text = text.replace(INVISIBLE_OR_EMOJI, removeInvisibleOrEmoji);
  text = collapseSpaces(text);
  if (SPACE_BEFORE_PUNCTUATION_HINT.test(text)) {
    text = text.replace(SPACE_BEFORE_PUNCTUATION, (spaces, offset: number, whole: string) =>
      offset > 0 && WORD_END.test(whole.charAt(offset - 1)) ? "" : spaces,
    );
  }
  return text;
}

/** Replacer for INVISIBLE_OR_EMOJI: the candidates of the range are checked precisely here. */
function removeInvisibleOrEmoji(character: string): string {
  const code = character.codePointAt(0) ?? 0;
  if (code === 0x2193 || code === 0x2b07 || code === 0x21b3) return " "; // decorative arrows ↓ ⬇ ↳
  // Controls, soft hyphen, © ®, zero-width characters, word joiner, variation selectors, BOM, tags.
  if (code < 0x203c || code === 0x2060 || (code >= 0xfe00 && code <= 0xfeff) || code >= 0xe0000) return "";
  return EMOJI_CHARACTER.test(character) ? "" : character;
}

const EMOJI_CHARACTER = /^(?:\p{Extended_Pictographic}|\p{Emoji_Modifier}|[\u{1F1E6}-\u{1F1FF}]|\u200D|\u20E3)$/u;

/** A leftover run of ** or __ next to a space or a line end is markup; inside a word (a__b) it is kept. */
function removeStrayEmphasis(run: string, offset: number, whole: string): string {
  const before = offset === 0 ? " " : whole.charAt(offset - 1);
  const after = offset + run.length >= whole.length ? " " : whole.charAt(offset + run.length);
  const spaceBefore = before === " " || before === "\n" || before === "\t";
  const spaceAfter = after === " " || after === "\n" || after === "\t" || ".,;:!?)".includes(after);
  return spaceBefore || spaceAfter ? "" : run;
}

function decodeEntity(entity: string, decimal?: string, hex?: string, name?: string): string {
  if (decimal !== undefined) return safeCodePoint(Number.parseInt(decimal, 10), entity);
  if (hex !== undefined) return safeCodePoint(Number.parseInt(hex, 16), entity);
  if (name !== undefined) return NAMED_ENTITIES[name.toLowerCase()] ?? entity;
  return entity;
}

function safeCodePoint(codePoint: number, fallback: string): string {
  return codePoint > 0 && codePoint <= 0x10ffff ? String.fromCodePoint(codePoint) : fallback;
}
