/**
 * Self-query: which known author is the query by or about? First by matching the names of the
 * authors the store knows (case- and accent-insensitive; the full name, or a first or last name
 * that only one author has), then — in "llm" mode — by asking the LLM under a JSON-schema grammar
 * whose only allowed values are the known authors' ids and null. Nothing here ever creates an
 * author: an unknown name simply finds nobody.
 */
import type { Author } from "../../domain/index.js";
import type { LanguageModel } from "../../llm/index.js";
import type { SelfQueryMode } from "../types.js";

export type AuthorResolution = { author: Author | undefined; source: "match" | "llm" | "history" | "none" };

export type SelfQueryStep = (
  query: string,
  authors: readonly Author[],
  options: { mode: SelfQueryMode; signal?: AbortSignal },
) => Promise<AuthorResolution>;

/** Lower case, accents removed, anything but letters and digits turned into single spaces. */
export function normalizeName(text: string): string {
  return text
    .normalize("NFKD")
    .replace(/\p{M}+/gu, "")
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, " ")
    .trim();
}

function words(text: string): string[] {
  const normalized = normalizeName(text);
  return normalized === "" ? [] : normalized.split(" ");
}

function findSequence(haystack: readonly string[], needle: readonly string[]): number {
  if (needle.length === 0) return -1;
  for (let start = 0; start + needle.length <= haystack.length; start += 1) {
    if (needle.every((word, offset) => haystack[start + offset] === word)) return start;
  }
  return -1;
}

/** The author named in `query`, if any; the earliest mention wins when several are named. */
export function matchAuthor(query: string, authors: readonly Author[]): Author | undefined {
  const queryWords = words(query);
  if (queryWords.length === 0) return undefined;

  let best: { author: Author; position: number } | undefined;
  for (const author of authors) {
    const position = findSequence(queryWords, words(author.fullName));
    if (position >= 0 && (best === undefined || position < best.position)) best = { author, position };
  }
  if (best !== undefined) return best.author;

  // A single name (first or last) counts only when exactly one known author carries it.
  const owners = new Map<string, Set<string>>();
  for (const author of authors) {
    for (const word of words(author.fullName)) {
      if (word.length < 3) continue;
      const set = owners.get(word) ?? new Set<string>();
      set.add(author.id);
      owners.set(word, set);
    }
  }
  const byId = new Map(authors.map((author) => [author.id, author]));
  for (const word of queryWords) {
    const set = owners.get(word);
    if (set?.size === 1) {
      const [id] = [...set];
      if (id !== undefined) return byId.get(id);
    }
  }
  return undefined;
}

/** Finds an author given explicitly (by id, or by full name as with matching). */
export function findKnownAuthor(value: string, authors: readonly Author[]): Author | undefined {
  const exact = authors.find((author) => author.id === value);
  if (exact !== undefined) return exact;
  const normalized = normalizeName(value);
  return authors.find((author) => normalizeName(author.fullName) === normalized);
}

export function authorJsonSchema(authors: readonly Author[]): Record<string, unknown> {
  return {
    type: "object",
    properties: { authorId: { enum: [...authors.map((author) => author.id), null] } },
    required: ["authorId"],
    additionalProperties: false,
  };
}

export function selfQueryPrompt(query: string, authors: readonly Author[]): string {
  const list = authors.map((author) => `- ${author.id}: ${author.fullName}`).join("\n");
  return [
    "Which of these authors is the user's request written by, or about? Answer with the author's id,",
    "or null when the request names none of them.",
    "",
    "Authors:",
    list,
    "",
    `Request: ${query}`,
    "",
    'Answer as JSON: {"authorId": "<id>"} or {"authorId": null}.',
  ].join("\n");
}

/** Reads the LLM's answer; anything but a known id (garbage, unknown ids, null) is "nobody". */
export function parseAuthorAnswer(text: string, authors: readonly Author[]): Author | undefined {
  const start = text.indexOf("{");
  const end = text.lastIndexOf("}");
  if (start < 0 || end <= start) return undefined;
  try {
    const parsed = JSON.parse(text.slice(start, end + 1)) as { authorId?: unknown };
    if (typeof parsed.authorId !== "string") return undefined;
    return authors.find((author) => author.id === parsed.authorId);
  } catch {
    return undefined;
  }
}

export type SelfQueryOptions = {
  llm?: LanguageModel;
  maxNewTokens: number;
};

export function createSelfQueryStep(options: SelfQueryOptions): SelfQueryStep {
  return async (query, authors, { mode, signal }) => {
    if (mode === "off" || authors.length === 0) return { author: undefined, source: "none" };
    const matched = matchAuthor(query, authors);
    if (matched !== undefined) return { author: matched, source: "match" };
    if (mode !== "llm" || options.llm === undefined) return { author: undefined, source: "none" };
    const result = await options.llm.generate({
      prompt: selfQueryPrompt(query, authors),
      maxNewTokens: options.maxNewTokens,
      temperature: 0,
      jsonSchema: authorJsonSchema(authors),
      ...(signal === undefined ? {} : { signal }),
    });
    const author = parseAuthorAnswer(result.text, authors);
    return author === undefined ? { author: undefined, source: "none" } : { author, source: "llm" };
  };
}
