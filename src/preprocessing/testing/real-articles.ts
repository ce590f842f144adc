/** Test helper: the 76 real articles of the shared LLM Twin corpus, parsed (undefined when absent). */
import { readFileSync } from "node:fs";
import type { RawArticle } from "../../domain/index.js";
import { parseRecord } from "../../ingestion/readers/parse-record.js";
import { requireSharedDataset } from "../../testing/shared-datasets.js";

export type RealArticles = { records: unknown[]; articles: RawArticle[] };

let cached: RealArticles | undefined;

export function loadRealArticles(): RealArticles | undefined {
  if (cached !== undefined) return cached;
  const path = requireSharedDataset("llm-twin", "articles.json");
  if (path === undefined) return undefined;
  const records = JSON.parse(readFileSync(path, "utf8")) as unknown[];
  const articles = records.map((record) => {
    const parsed = parseRecord(record);
    if (!parsed.ok || parsed.document.category !== "articles")
      throw new Error(`unexpected record: ${JSON.stringify(parsed)}`);
    return parsed.document;
  });
  cached = { records, articles };
  return cached;
}

/** The article whose link contains `fragment` (links are stable identifiers in the corpus). */
export function articleByLink(articles: readonly RawArticle[], fragment: string): RawArticle {
  const article = articles.find((candidate) => candidate.link.includes(fragment));
  if (article === undefined) throw new Error(`no article with a link containing ${fragment}`);
  return article;
}
