/**
 * Reciprocal-rank fusion (Cormack et al., 2009): each list contributes weight / (k + rank) to every
 * id it holds (rank from 1). Pure and reusable: the stores' hybrid search and the RAG service's
 * merge of several queries' results both use it.
 */

export type RankedList = {
  /** Ids best first. Duplicates within one list count once, at their best rank. */
  ids: readonly string[];
  /** Weight of this list; default 1. A weight of 0 keeps its ids out of the scores. */
  weight?: number;
};

export type FusionOptions = {
  /** The RRF constant; larger flattens the difference between top and lower ranks. Default 60. */
  k?: number;
};

export type FusedResult = { id: string; score: number };

export const DEFAULT_RRF_K = 60;

/** Fused ids, best first; ties are broken by first appearance (earlier list, then rank). */
export function reciprocalRankFusion(lists: readonly RankedList[], options: FusionOptions = {}): FusedResult[] {
  const k = options.k ?? DEFAULT_RRF_K;
  if (!Number.isFinite(k) || k < 0) throw new RangeError(`RRF k must be a finite number >= 0, got ${k}`);
  const scores = new Map<string, number>();
  for (const list of lists) {
    const weight = list.weight ?? 1;
    if (!Number.isFinite(weight) || weight < 0) throw new RangeError(`RRF weight must be >= 0, got ${weight}`);
    if (weight === 0) continue;
    const seen = new Set<string>();
    let rank = 0;
    for (const id of list.ids) {
      if (seen.has(id)) continue;
      seen.add(id);
      rank += 1;
      scores.set(id, (scores.get(id) ?? 0) + weight / (k + rank));
    }
  }
  const order = new Map<string, number>();
  let position = 0;
  for (const id of scores.keys()) order.set(id, position++);
  return [...scores.entries()]
    .map(([id, score]) => ({ id, score }))
    .sort((left, right) => right.score - left.score || (order.get(left.id) ?? 0) - (order.get(right.id) ?? 0));
}
