/**
 * Field weighting of titles, after the search: a chunk whose document title holds the query's
 * words moves up. Each hit's score is divided by its list's best score, then gets
 * `weight × (share of the query's content words found in the title)`; the list is re-sorted.
 * Pure and store-agnostic (titles come with every hit), so it works the same on LanceDB and
 * Qdrant and in every mode. Words are lower-cased, English stop words dropped, and compared after
 * stripping common suffixes ("models" = "model", "merging" = "merge"). Measured in
 * docs/evaluation.md ("Lexical search on paraphrases").
 */
import { ENGLISH_STOPWORDS } from "../../embedding/static/stopwords.js";
import type { SearchHit } from "../../vector-store/index.js";

const WORD = /[\p{L}\p{N}]+(?:['’-][\p{L}\p{N}]+)*/gu;

/** A light suffix stripper: enough to match "model"/"models", "merge"/"merging"/"merged". */
export function stemWord(word: string): string {
  if (word.length <= 4) return word;
  for (const suffix of ["ations", "ation", "ings", "ing", "ies", "ed", "es", "s"]) {
    if (word.endsWith(suffix) && word.length - suffix.length >= 3) {
      const base = word.slice(0, -suffix.length);
      return suffix === "ies" ? `${base}y` : base.replace(/e$/, "");
    }
  }
  return word.replace(/e$/, "");
}

export function contentWords(text: string): Set<string> {
  const words = new Set<string>();
  for (const match of text.toLowerCase().matchAll(WORD)) {
    const word = match[0];
    if (word.length < 2 || ENGLISH_STOPWORDS.has(word)) continue;
    words.add(stemWord(word));
  }
  return words;
}

/** Share of the query's content words present in `title` (0 when the query has none). */
export function titleMatch(queryWords: ReadonlySet<string>, title: string): number {
  if (queryWords.size === 0) return 0;
  const titleWords = contentWords(title);
  let found = 0;
  for (const word of queryWords) if (titleWords.has(word)) found += 1;
  return found / queryWords.size;
}

/** The hits re-scored and re-sorted (stable for equal scores); weight 0 returns them unchanged. */
export function boostTitleMatches(hits: readonly SearchHit[], query: string, weight: number): SearchHit[] {
  if (!(weight >= 0) || !Number.isFinite(weight)) throw new RangeError(`title weight must be >= 0, got ${weight}`);
  if (weight === 0 || hits.length === 0) return [...hits];
  const queryWords = contentWords(query);
  if (queryWords.size === 0) return [...hits];
  let best = 0;
  for (const hit of hits) if (Number.isFinite(hit.score) && hit.score > best) best = hit.score;
  const titleScores = new Map<string, number>();
  return hits
    .map((hit, index) => {
      let match = titleScores.get(hit.chunk.title);
      if (match === undefined) {
        match = titleMatch(queryWords, hit.chunk.title);
        titleScores.set(hit.chunk.title, match);
      }
      const base = best > 0 && Number.isFinite(hit.score) ? Math.max(0, hit.score) / best : 0;
      return { hit: { ...hit, score: base + weight * match }, index };
    })
    .sort((left, right) => right.hit.score - left.hit.score || left.index - right.index)
    .map(({ hit }) => hit);
}
