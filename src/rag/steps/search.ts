/**
 * Embedding and search. All queries are cleaned with the ingestion's query cleaning and embedded
 * in one batch (split only by the embedder's maxBatchSize); then every (query, category) pair is
 * searched with the author filter, all in parallel. Lexical mode needs no vectors and skips the
 * embedder. Each list is then re-scored by title matches (title-boost.ts) when `titleWeight` > 0.
 */
import type { DataCategory } from "../../domain/index.js";
import type { Embedder } from "../../embedding/index.js";
import type { HybridFusion, SearchHit, SearchMode, VectorStore } from "../../vector-store/index.js";
import { boostTitleMatches } from "./title-boost.js";

export type EmbedQueriesStep = (texts: readonly string[], options: { signal?: AbortSignal }) => Promise<Float32Array[]>;

export function createEmbedQueriesStep(embedder: Embedder): EmbedQueriesStep {
  return async (texts, { signal }) => {
    const batchSize = Math.max(1, embedder.maxBatchSize);
    const batches: Promise<Float32Array[]>[] = [];
    for (let start = 0; start < texts.length; start += batchSize) {
      batches.push(embedder.embed(texts.slice(start, start + batchSize), signal === undefined ? {} : { signal }));
    }
    return (await Promise.all(batches)).flat();
  };
}

export type SearchPlan = {
  mode: SearchMode;
  /** Cleaned query texts, in the same order as `vectors`. */
  texts: readonly string[];
  vectors: readonly Float32Array[] | undefined;
  categories: readonly DataCategory[];
  authorId: string | undefined;
  limit: number;
  hybridFusion: HybridFusion;
  hybridDenseWeight: number;
  rrfK: number;
  /** Weight of a full title match added to each hit's score (divided by its list's best); 0 = off. */
  titleWeight?: number;
};

export type ResultList = { query: number; category: DataCategory; hits: SearchHit[] };

export type SearchStep = (plan: SearchPlan, options: { signal?: AbortSignal }) => Promise<ResultList[]>;

export function createSearchStep(store: VectorStore): SearchStep {
  return async (plan, { signal }) => {
    const searches: Promise<ResultList>[] = [];
    const titleWeight = plan.titleWeight ?? 0;
    plan.texts.forEach((text, query) => {
      for (const category of plan.categories) {
        const vector = plan.vectors?.[query];
        searches.push(
          store
            .search({
              category,
              mode: plan.mode,
              ...(plan.mode === "lexical" || vector === undefined ? {} : { vector }),
              ...(plan.mode === "dense" ? {} : { text }),
              ...(plan.authorId === undefined ? {} : { filter: { authorId: plan.authorId } }),
              limit: plan.limit,
              ...(plan.mode === "hybrid"
                ? { hybrid: { fusion: plan.hybridFusion, denseWeight: plan.hybridDenseWeight, rrfK: plan.rrfK } }
                : {}),
              ...(signal === undefined ? {} : { signal }),
            })
            .then((hits) => ({
              query,
              category,
              hits: titleWeight > 0 ? boostTitleMatches(hits, text, titleWeight) : hits,
            })),
        );
      }
    });
    return Promise.all(searches);
  };
}
