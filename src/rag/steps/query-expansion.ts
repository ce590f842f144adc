/**
 * Query expansion: the LLM writes other phrasings of the query, to widen recall. The answer is
 * parsed leniently (one query per line, numbering, bullets and quotes removed, the reference's
 * `#next-question#` separator understood) and checked: lines that do not look like a question
 * (random-weight test models write garbage) are dropped, and when nothing usable remains only
 * the original query is searched.
 */
import type { LanguageModel } from "../../llm/index.js";

export type QueryExpansionStep = (query: string, options: { count: number; signal?: AbortSignal }) => Promise<string[]>;

export const EXPANSION_SEPARATOR = "#next-question#";

export function expansionPrompt(query: string, extra: number): string {
  return [
    `Write ${extra} different versions of the user's question, to find relevant documents in a vector`,
    "database. Each version looks at the question from a different angle. Write one version per line,",
    "and nothing else.",
    "",
    `Question: ${query}`,
  ].join("\n");
}

/** True when `line` reads like natural-language text rather than random tokens. */
export function looksLikeQuery(line: string): boolean {
  if (line.length < 8 || line.length > 1000) return false;
  if (/[\uFFFD\p{Cc}]/u.test(line)) return false;
  const letters = (line.match(/\p{L}/gu) ?? []).length;
  const wordsOfLetters = line.split(/\s+/).filter((word) => /^[\p{L}'’-]{2,}[.,!?;:]*$/u.test(word));
  return letters / line.length >= 0.6 && wordsOfLetters.length >= 3;
}

export function parseExpandedQueries(text: string, original: string, extra: number): string[] {
  const seen = new Set([original.trim().toLowerCase()]);
  const queries: string[] = [];
  for (const raw of text.split(/\n|#next-question#/)) {
    const line = raw
      .trim()
      .replace(/^(?:[-*•]|\d+[.)]|question\s*\d*\s*:|version\s*\d*\s*:)\s*/i, "")
      .replace(/^["'“”]+|["'“”]+$/g, "")
      .trim();
    if (!looksLikeQuery(line)) continue;
    const key = line.toLowerCase();
    if (seen.has(key)) continue;
    seen.add(key);
    queries.push(line);
    if (queries.length >= extra) break;
  }
  return queries;
}

export type QueryExpansionOptions = {
  llm?: LanguageModel;
  maxNewTokens: number;
};

/** Returns the original query first, then up to `count - 1` expansions. */
export function createQueryExpansionStep(options: QueryExpansionOptions): QueryExpansionStep {
  return async (query, { count, signal }) => {
    if (count <= 1 || options.llm === undefined) return [query];
    const extra = count - 1;
    const result = await options.llm.generate({
      prompt: expansionPrompt(query, extra),
      maxNewTokens: options.maxNewTokens,
      temperature: 0,
      ...(signal === undefined ? {} : { signal }),
    });
    return [query, ...parseExpandedQueries(result.text, query, extra)];
  };
}
