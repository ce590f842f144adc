/**
 * Block-level cleaning of scraped markdown (the html2text-style output of the LLM Twin crawlers):
 * code blocks (fenced, or indented by four spaces) are kept verbatim as fenced blocks; prose
 * lines lose heading, quote and list markers, boilerplate lines are dropped, hard-wrapped lines
 * are joined back into paragraphs. Output: paragraphs separated by one blank line.
 */
import { cleanInline } from "./inline.js";

export type HeadingRole = "keep" | "drop" | "drop-section" | "end-of-content";

export type MarkdownCleaningOptions = {
  /** Paragraphs, list items and headings (after inline cleaning, wrapped lines joined) to drop. */
  isBoilerplate?: (text: string) => boolean;
  /**
   * What a heading means: "drop-section" drops it and everything up to the next heading (tables
   * of contents, lists of previous lessons); "end-of-content" drops it and everything after
   * (related articles, promotional tails).
   */
  headingRole?: (heading: string) => HeadingRole;
  /** Rewrites a rendered paragraph (e.g. drops promotional sentences); "" drops it. */
  rewriteParagraph?: (text: string) => string;
};

const FENCE = /^ {0,3}(```+|~~~+)/;
const INDENTED_CODE = /^(?: {4}|\t)/;
const LIST_AFTER_INDENT = /^\s*(?:[*+\-•]|\d{1,3}[.)])\s/;
const HEADING = /^ {0,3}#{1,6}(?:\s+|$)/;
const HEADING_CLOSE = /\s+#+\s*$/;
const BLOCKQUOTE = /^ {0,3}(?:>\s?)+/;
const BULLET = /^\s*(?:[*+\-•▪‣◦→↳➔➜►▶⇒]|\\-)\s+/;
const NUMBERED = /^\s*(\d{1,3})(?:\\?[.)])\s+/;
const RULE = /^\s*(?:(?:\*\s*){3,}|(?:-\s*){3,}|(?:_\s*){3,}|(?:=\s*){3,})$/;
const TABLE_SEPARATOR = /^\s*\|?\s*:?-{2,}:?\s*(?:\|\s*:?-{2,}:?\s*)*\|?\s*$/;
const LEADING_SYMBOLS = /^(?:[\s→↳↓↑←⇒➔➜►▶•▪‣◦∙·>]|[*+\-–—|](?=\s))+/;
const HAS_WORD_CHARACTER = /[\p{L}\p{N}]/u;
const WRAPPED_HYPHEN = /(?<=\p{L})-$/u;
const STARTS_LOWERCASE = /^\p{Ll}/u;
const TRAILING_ICON = /(?:\s__|(?<=[)\]"'}])__)\s*$/;

type Block =
  | { kind: "paragraph"; lines: string[] }
  | { kind: "code"; lines: string[] }
  | { kind: "heading"; text: string };

export function cleanMarkdown(text: string, options: MarkdownCleaningOptions = {}): string {
  const lines = text.split("\n");
  const blocks: Block[] = [];
  let paragraph: string[] = [];
  const flushParagraph = () => {
    if (paragraph.length > 0) blocks.push({ kind: "paragraph", lines: paragraph });
    paragraph = [];
  };
  let previousBlank = true;
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index] ?? "";
    const fence = FENCE.exec(line);
    if (fence !== null) {
      flushParagraph();
      const marker = fence[1] ?? "```";
      const code: string[] = [];
      index++;
      while (index < lines.length && !(lines[index] ?? "").trimStart().startsWith(marker)) {
        code.push(lines[index] ?? "");
        index++;
      }
      pushCode(blocks, code);
      previousBlank = true;
      continue;
    }
    if (previousBlank && INDENTED_CODE.test(line) && isCodeStart(lines, index)) {
      flushParagraph();
      const code: string[] = [];
      while (index < lines.length) {
        const current = lines[index] ?? "";
        if (INDENTED_CODE.test(current)) {
          code.push(current.startsWith("\t") ? current.slice(1) : current.slice(4));
        } else if (current.trim() === "" && nextNonBlankIsIndented(lines, index + 1)) {
          code.push("");
        } else {
          break;
        }
        index++;
      }
      index--;
      pushCode(blocks, code);
      previousBlank = true;
      continue;
    }
    if (line.trim() === "") {
      flushParagraph();
      previousBlank = true;
      continue;
    }
    previousBlank = false;
    if (RULE.test(line) || TABLE_SEPARATOR.test(line)) {
      flushParagraph();
      continue;
    }
    const isHeading = HEADING.test(line);
    const isListItem = BULLET.test(line) || NUMBERED.test(line);
    const cleaned = cleanProseLine(line);
    if (cleaned === "" || !HAS_WORD_CHARACTER.test(cleaned)) continue;
    if (isHeading) {
      flushParagraph();
      blocks.push({ kind: "heading", text: cleaned });
      continue;
    }
    if (isListItem) {
      flushParagraph();
      paragraph.push(cleaned);
      flushParagraph();
      continue;
    }
    paragraph.push(cleaned);
  }
  flushParagraph();
  return renderBlocks(blocks, options);
}

function cleanProseLine(line: string): string {
  let text = line;
  text = text.replace(BLOCKQUOTE, "");
  if (HEADING.test(text)) text = text.replace(HEADING, "").replace(HEADING_CLOSE, "");
  const numbered = NUMBERED.exec(text);
  if (numbered !== null) {
    text = `${numbered[1]}. ${text.slice(numbered[0].length)}`;
  } else {
    text = text.replace(BULLET, "");
  }
  text = cleanInline(text);
  text = text.replace(LEADING_SYMBOLS, "");
  return text.trim();
}

function isCodeStart(lines: readonly string[], index: number): boolean {
  // html2text writes nested list items with four spaces too: those are prose.
  for (let probe = index; probe < lines.length; probe++) {
    const current = lines[probe] ?? "";
    if (current.trim() === "") continue;
    return INDENTED_CODE.test(current) && !LIST_AFTER_INDENT.test(current);
  }
  return false;
}

function nextNonBlankIsIndented(lines: readonly string[], from: number): boolean {
  for (let probe = from; probe < lines.length; probe++) {
    const current = lines[probe] ?? "";
    if (current.trim() === "") continue;
    return INDENTED_CODE.test(current) && !LIST_AFTER_INDENT.test(current);
  }
  return false;
}

function pushCode(blocks: Block[], code: string[]): void {
  let start = 0;
  let end = code.length;
  while (start < end && (code[start] ?? "").trim() === "") start++;
  while (end > start && (code[end - 1] ?? "").trim() === "") end--;
  if (start === end) return;
  const kept = code.slice(start, end).map((line) => line.trimEnd());
  const lastIndex = kept.length - 1;
  kept[lastIndex] = (kept[lastIndex] ?? "").replace(TRAILING_ICON, "");
  blocks.push({ kind: "code", lines: kept });
}

function renderBlocks(blocks: readonly Block[], options: MarkdownCleaningOptions): string {
  const parts: string[] = [];
  let droppingSection = false;
  for (const block of blocks) {
    if (block.kind === "heading") {
      const role = options.headingRole?.(block.text) ?? "keep";
      if (role === "end-of-content") break;
      droppingSection = role === "drop-section";
      if (role === "keep" && options.isBoilerplate?.(block.text) !== true) parts.push(block.text);
      continue;
    }
    if (droppingSection) continue;
    if (block.kind === "code") {
      parts.push(`\`\`\`\n${block.lines.join("\n")}\n\`\`\``);
      continue;
    }
    let text = joinWrappedLines(block.lines);
    if (options.isBoilerplate?.(text) === true) continue;
    if (options.rewriteParagraph !== undefined) text = options.rewriteParagraph(text).trim();
    if (text !== "" && HAS_WORD_CHARACTER.test(text)) parts.push(text);
  }
  return parts.join("\n\n");
}

/** Joins hard-wrapped lines; a word split by a hyphen at the wrap ("fine-\ntuning") stays one word. */
function joinWrappedLines(lines: readonly string[]): string {
  let result = lines[0] ?? "";
  for (let index = 1; index < lines.length; index++) {
    const next = lines[index] ?? "";
    if (WRAPPED_HYPHEN.test(result) && STARTS_LOWERCASE.test(next)) result += next;
    else result += ` ${next}`;
  }
  return result;
}
