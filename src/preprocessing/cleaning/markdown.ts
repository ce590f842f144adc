/**
 * Block-level cleaning of scraped markdown (the html2text-style output of the LLM Twin crawlers):
 * code blocks (fenced, or indented by four spaces) are kept verbatim as fenced blocks; prose
 * lines lose heading, quote and list markers, boilerplate is dropped, hard-wrapped lines are
 * joined back into paragraphs. Output: blocks separated by one blank line.
 *
 * For speed, inline cleaning runs once over all prose blocks of a document (joined by newlines;
 * no inline rule crosses a newline) instead of once per line.
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
  /** Rewrites a cleaned paragraph (e.g. drops promotional sentences); "" drops it. */
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
const LEADING_SYMBOLS = /^(?:[ →↳↓↑←⇒➔➜►▶•▪‣◦∙·>]|[*+\-–—|](?= ))+/;
const STARTS_WITH_WORD = /^[\p{L}\p{N}]/u;
const HAS_WORD_CHARACTER = /[\p{L}\p{N}]/u;
const LETTER = /\p{L}/u;
const STARTS_LOWERCASE = /^\p{Ll}/u;
const TRAILING_ICON = /(?:\s__|(?<=[)\]"'}])__)\s*$/;

type ProseKind = "paragraph" | "item" | "heading";
type Block = { kind: ProseKind; text: string } | { kind: "code"; lines: string[] };

export function cleanMarkdown(text: string, options: MarkdownCleaningOptions = {}): string {
  const blocks = parseBlocks(text.split("\n"));
  cleanProseBlocks(blocks);
  return renderBlocks(blocks, options);
}

function parseBlocks(lines: readonly string[]): Block[] {
  const blocks: Block[] = [];
  // The prose block being built: wrapped lines (html2text wraps paragraphs, list items and
  // headings at ~78 columns) are collected until a blank line or a new block starts.
  let pendingKind: ProseKind = "paragraph";
  let pending: string[] = [];
  const flush = () => {
    if (pending.length > 0) blocks.push({ kind: pendingKind, text: joinWrappedLines(pending) });
    pending = [];
    pendingKind = "paragraph";
  };
  const start = (kind: ProseKind, text: string) => {
    flush();
    pendingKind = kind;
    pending.push(text.trim());
  };
  let previousBlank = true;
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index] ?? "";
    const fence = FENCE.exec(line);
    if (fence !== null) {
      flush();
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
    if (previousBlank && INDENTED_CODE.test(line) && nextNonBlankIsCode(lines, index)) {
      flush();
      const code: string[] = [];
      while (index < lines.length) {
        const current = lines[index] ?? "";
        if (INDENTED_CODE.test(current)) {
          code.push(current.startsWith("\t") ? current.slice(1) : current.slice(4));
        } else if (current.trim() === "" && nextNonBlankIsCode(lines, index + 1)) {
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
      flush();
      previousBlank = true;
      continue;
    }
    previousBlank = false;
    if (RULE.test(line) || TABLE_SEPARATOR.test(line)) {
      flush();
      continue;
    }
    const prose = line.replace(BLOCKQUOTE, "");
    if (HEADING.test(prose)) {
      start("heading", prose.replace(HEADING, "").replace(HEADING_CLOSE, ""));
      continue;
    }
    const numbered = NUMBERED.exec(prose);
    if (numbered !== null) {
      start("item", `${numbered[1]}. ${prose.slice(numbered[0].length)}`);
      continue;
    }
    if (BULLET.test(prose)) {
      start("item", prose.replace(BULLET, ""));
      continue;
    }
    pending.push(prose.trim());
  }
  flush();
  return blocks;
}

/** Inline cleaning of every prose block in one pass over one string. */
function cleanProseBlocks(blocks: Block[]): void {
  const prose: Array<{ kind: ProseKind; text: string }> = [];
  for (const block of blocks) if (block.kind !== "code") prose.push(block);
  if (prose.length === 0) return;
  const joined = prose.map((block) => block.text.replace(/\n/g, " ")).join("\n");
  const cleaned = cleanInline(joined).split("\n");
  for (let index = 0; index < prose.length; index++) {
    const block = prose[index];
    if (block === undefined) continue;
    let text = cleaned[index] ?? "";
    if (!STARTS_WITH_WORD.test(text)) text = text.replace(LEADING_SYMBOLS, "");
    block.text = text.trim();
  }
}

function nextNonBlankIsCode(lines: readonly string[], from: number): boolean {
  // html2text writes nested list items with four spaces too: those are prose.
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
  // Whether the last part is a paragraph that a broken-off fragment may continue.
  let lastIsParagraph = false;
  for (const block of blocks) {
    if (block.kind === "heading") {
      lastIsParagraph = false;
      if (block.text === "" || !HAS_WORD_CHARACTER.test(block.text)) continue;
      const role = options.headingRole?.(block.text) ?? "keep";
      if (role === "end-of-content") break;
      droppingSection = role === "drop-section";
      if (role === "keep" && options.isBoilerplate?.(block.text) !== true) parts.push(block.text);
      continue;
    }
    if (droppingSection) continue;
    if (block.kind === "code") {
      parts.push(`\`\`\`\n${block.lines.join("\n")}\n\`\`\``);
      lastIsParagraph = false;
      continue;
    }
    let text = block.text;
    if (text === "" || !HAS_WORD_CHARACTER.test(text)) continue;
    if (options.isBoilerplate?.(text) === true) continue;
    if (options.rewriteParagraph !== undefined) text = options.rewriteParagraph(text).trim();
    if (text === "" || !HAS_WORD_CHARACTER.test(text)) continue;
    const previous = parts[parts.length - 1];
    if (block.kind === "paragraph" && lastIsParagraph && previous !== undefined && continuesSentence(previous, text)) {
      parts[parts.length - 1] = `${previous} ${text}`;
      continue;
    }
    parts.push(text);
    lastIsParagraph = block.kind === "paragraph";
  }
  return parts.join("\n\n");
}

const ENDS_WITH_FUNCTION_WORD =
  /(?:^|\s)(?:a|an|the|of|to|in|on|at|by|for|from|with|than|and|or|as|via|like|about|into|over|between)$/i;
const ENDS_WITH_WORD = /[\p{L}\p{N})]$/u;

/**
 * Scrapers break a sentence around inline widgets (Substack's author mentions and link cards):
 * "No one other than" / "Maria Vechtomova" / "from" / "MarvelousMLOps" / "has proposed it." are
 * one sentence. A paragraph continues the previous one when the previous one stops without
 * punctuation and either ends with a function word or the next starts in lower case.
 */
function continuesSentence(previous: string, next: string): boolean {
  if (!ENDS_WITH_WORD.test(previous)) return false;
  return STARTS_LOWERCASE.test(next) || ENDS_WITH_FUNCTION_WORD.test(previous.slice(-12));
}

/** Joins hard-wrapped lines; a word split by a hyphen at the wrap ("fine-\ntuning") stays one word. */
function joinWrappedLines(lines: readonly string[]): string {
  let result = lines[0] ?? "";
  for (let index = 1; index < lines.length; index++) {
    const next = lines[index] ?? "";
    if (next === "") continue;
    if (result.endsWith("-") && LETTER.test(result.charAt(result.length - 2)) && STARTS_LOWERCASE.test(next)) {
      result += next;
    } else result += ` ${next}`;
  }
  return result;
}
