/**
 * Merge, deduplicate and rerank against the ORIGINAL query. Without a reranker the result lists
 * (one per query and category) are fused by reciprocal-rank fusion; with one (a GGUF ranking model)
 * the best `candidates` of that fusion are scored against the original query and the top k kept.
 */
import type { Chunk } from "../../domain/index.js";
import { reciprocalRankFusion } from "../../vector-store/fusion.js";
import type { Reranker } from "../rerank/port.js";
import type { ResultList } from "./search.js";

export type RankedChunk = { chunk: Chunk; score: number };

export type RerankStep = (
  query: string,
  lists: readonly ResultList[],
  options: { k: number; signal?: AbortSignal },
) => Promise<RankedChunk[]>;

/** Chunks of every list fused by RRF, each once (dedup by chunk id), best first. */
export function fuseResultLists(lists: readonly ResultList[], rrfK: number): RankedChunk[] {
  const chunks = new Map<string, Chunk>();
  for (const list of lists)
    for (const hit of list.hits) if (!chunks.has(hit.chunk.id)) chunks.set(hit.chunk.id, hit.chunk);
  const fused = reciprocalRankFusion(
    lists.map((list) => ({ ids: list.hits.map((hit) => hit.chunk.id) })),
    { k: rrfK },
  );
  const ranked: RankedChunk[] = [];
  for (const { id, score } of fused) {
    const chunk = chunks.get(id);
    if (chunk !== undefined) ranked.push({ chunk, score });
  }
  return ranked;
}

export type RerankOptions = { reranker?: Reranker; rrfK: number; candidates: number };

export function createRerankStep(options: RerankOptions): RerankStep {
  return async (query, lists, { k, signal }) => {
    const fused = fuseResultLists(lists, options.rrfK);
    const { reranker } = options;
    if (reranker === undefined || fused.length === 0) return fused.slice(0, k);
    const candidates = fused.slice(0, Math.max(k, options.candidates));
    const scores = await reranker.score(
      query,
      candidates.map((candidate) => candidate.chunk.text),
      signal === undefined ? {} : { signal },
    );
    return candidates
      .map((candidate, index) => ({ chunk: candidate.chunk, score: scores[index] ?? Number.NEGATIVE_INFINITY }))
      .sort((left, right) => right.score - left.score)
      .slice(0, k);
  };
}
