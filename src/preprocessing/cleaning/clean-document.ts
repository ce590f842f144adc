/**
 * Cleaning per data category (an exhaustive handler per category): scraped article pages,
 * social posts and repository snapshots each become one clean text, ready to chunk.
 */
import type {
  CleanedDocument,
  DataCategory,
  RawArticle,
  RawDocument,
  RawPost,
  RawRepository,
} from "../../domain/index.js";
import { canonicalJson, sha256Hex } from "../canonical-json.js";
import { DEFAULT_PREPROCESSING_PARAMETERS, type PreprocessingParameters } from "../parameters.js";
import { cleanInline, collapseSpaces, removeEmoji } from "./inline.js";
import { cleanMarkdown } from "./markdown.js";
import { toNfkc } from "./nfkc.js";
import { cleanRepositoryFiles } from "./repository.js";
import { headingRole, isBoilerplateParagraph, removePromotionalSentences, trimPageChrome } from "./web-boilerplate.js";

export type CleanOptions = {
  /** sha256 of the source record (ReadResult.sourceHash); default: sha256 of the raw document's canonical JSON. */
  sourceHash?: string;
  parameters?: PreprocessingParameters;
};

type Handler<D extends RawDocument> = (
  raw: D,
  parameters: PreprocessingParameters,
) => { title: string; content: string };

const HANDLERS: { [C in DataCategory]: Handler<Extract<RawDocument, { category: C }>> } = {
  articles: cleanArticle,
  posts: cleanPost,
  repositories: cleanRepository,
};

export function cleanDocument(raw: RawDocument, options: CleanOptions = {}): CleanedDocument {
  const parameters = options.parameters ?? DEFAULT_PREPROCESSING_PARAMETERS;
  const handler = HANDLERS[raw.category] as Handler<RawDocument>;
  const { title, content } = handler(raw, parameters);
  return {
    id: raw.id,
    category: raw.category,
    author: raw.author,
    platform: raw.platform,
    title,
    link: raw.link,
    content,
    sourceHash: options.sourceHash ?? sha256Hex(canonicalJson(raw)),
  };
}

/** Cleans one line of free text (titles, queries): no markdown syntax, emoji or runs of spaces. */
export function cleanPlainText(text: string): string {
  return collapseSpaces(cleanInline(removeEmoji(toNfkc(text)).replace(/\s+/g, " "))).trim();
}

const TITLE_AUTHOR_SUFFIX = /\s+[-|–—]\s+(?:by\s+)?([\p{L} .'-]{2,60})$/u;
const TITLE_AUTHOR_PREFIX = /^([\p{L} .'-]{2,60})\s+[-|–—]\s+/u;

/** "Uncensor any LLM - Maxime Labonne" → "Uncensor any LLM" (only when the affix is the author's name). */
export function cleanTitle(title: string, authorName: string): string {
  let cleaned = cleanPlainText(title);
  const normalizedAuthor = authorName.trim().toLowerCase();
  if (normalizedAuthor !== "") {
    const suffix = TITLE_AUTHOR_SUFFIX.exec(cleaned);
    if (suffix !== null && suffix[1]?.trim().toLowerCase() === normalizedAuthor)
      cleaned = cleaned.slice(0, suffix.index);
    const prefix = TITLE_AUTHOR_PREFIX.exec(cleaned);
    if (prefix !== null && prefix[1]?.trim().toLowerCase() === normalizedAuthor)
      cleaned = cleaned.slice(prefix[0].length);
  }
  return cleaned.trim();
}

function authorNames(fullName: string): string[] {
  const trimmed = fullName.trim();
  if (trimmed === "") return [];
  const first = trimmed.split(/\s+/)[0] ?? trimmed;
  return first === trimmed ? [trimmed] : [trimmed, first];
}

function cleanArticle(raw: RawArticle): { title: string; content: string } {
  const names = authorNames(raw.author.fullName);
  const body = cleanMarkdown(trimPageChrome(normalizeText(raw.content)), {
    isBoilerplate: (text) => isBoilerplateParagraph(text, names),
    headingRole,
    rewriteParagraph: removePromotionalSentences,
  });
  const title = cleanTitle(raw.title, raw.author.fullName);
  const subtitle = cleanPlainText(raw.subtitle);
  const parts = [title, subtitle, body].filter((part) => part !== "");
  return { title, content: dedupeLeadingParagraphs(parts.join("\n\n")) };
}

const HASHTAG = /(^|[\s(])#(\p{L}[\p{L}\p{N}_]*)/gu;

function cleanPost(raw: RawPost): { title: string; content: string } {
  const names = authorNames(raw.author.fullName);
  const text = normalizeText(raw.content).replace(HASHTAG, "$1$2");
  const body = cleanMarkdown(text, {
    isBoilerplate: (paragraph) => isBoilerplateParagraph(paragraph, names),
    rewriteParagraph: removePromotionalSentences,
  });
  const explicitTitle = raw.title === undefined ? "" : cleanPlainText(raw.title);
  const title = explicitTitle !== "" ? explicitTitle : firstLineAsTitle(body);
  return { title, content: body };
}

function cleanRepository(raw: RawRepository, parameters: PreprocessingParameters): { title: string; content: string } {
  return {
    title: cleanPlainText(raw.name),
    content: cleanRepositoryFiles(raw.files, parameters.cleaning.repositories),
  };
}

function normalizeText(text: string): string {
  const unixText = text.includes("\r") ? text.replace(/\r\n?/g, "\n") : text;
  return toNfkc(unixText);
}

function firstLineAsTitle(body: string): string {
  const firstLine = body.split("\n", 1)[0] ?? "";
  if (firstLine.length <= 100) return firstLine;
  const cut = firstLine.lastIndexOf(" ", 100);
  return `${firstLine.slice(0, cut > 40 ? cut : 100)}…`;
}

/** The page header often repeats title and subtitle: keep each only once among the first paragraphs. */
function dedupeLeadingParagraphs(content: string): string {
  const seen = new Set<string>();
  let result = "";
  let position = 0;
  for (let paragraph = 0; paragraph < 6 && position <= content.length; paragraph++) {
    let end = content.indexOf("\n\n", position);
    if (end < 0) end = content.length;
    const text = content.slice(position, end);
    // Titles and subtitles are short; long paragraphs are never repeated headers.
    const key = text.length <= 300 ? text.toLowerCase() : undefined;
    if (key === undefined || !seen.has(key)) {
      if (key !== undefined) seen.add(key);
      result = result === "" ? text : `${result}\n\n${text}`;
    }
    position = end + 2;
  }
  if (position >= content.length) return result;
  return `${result}\n\n${content.slice(position)}`;
}
