/**
 * Ranking metrics, as BEIR computes them (pytrec_eval): each takes the ranked document ids of one
 * query (best first, duplicates already removed) and its judgments (id → graded relevance > 0).
 *   nDCG@k   = DCG@k / ideal DCG@k, DCG@k = Σ_{i=1..k} rel_i / log2(i + 1) (linear gain)
 *   recall@k = |relevant ∩ top k| / |relevant|
 *   MRR@k    = 1 / rank of the first relevant document within the top k, else 0
 */

export type Judgments = ReadonlyMap<string, number>;

export function ndcgAtK(ranked: readonly string[], judgments: Judgments, k: number): number {
  let dcg = 0;
  ranked.slice(0, k).forEach((id, index) => {
    const relevance = judgments.get(id) ?? 0;
    if (relevance > 0) dcg += relevance / Math.log2(index + 2);
  });
  const ideal = [...judgments.values()]
    .filter((relevance) => relevance > 0)
    .sort((left, right) => right - left)
    .slice(0, k)
    .reduce((total, relevance, index) => total + relevance / Math.log2(index + 2), 0);
  return ideal === 0 ? 0 : dcg / ideal;
}

export function recallAtK(ranked: readonly string[], judgments: Judgments, k: number): number {
  const relevant = [...judgments.values()].filter((relevance) => relevance > 0).length;
  if (relevant === 0) return 0;
  const found = ranked.slice(0, k).filter((id) => (judgments.get(id) ?? 0) > 0).length;
  return found / relevant;
}

export function mrrAtK(ranked: readonly string[], judgments: Judgments, k: number): number {
  const index = ranked.slice(0, k).findIndex((id) => (judgments.get(id) ?? 0) > 0);
  return index < 0 ? 0 : 1 / (index + 1);
}

/** The q-quantile (0..1) of `values` by linear interpolation between closest ranks; NaN when empty. */
export function percentile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((left, right) => left - right);
  const position = (sorted.length - 1) * q;
  const lower = Math.floor(position);
  const upper = Math.ceil(position);
  const low = sorted[lower] as number;
  const high = sorted[upper] as number;
  return low + (high - low) * (position - lower);
}

export const mean = (values: readonly number[]): number =>
  values.length === 0 ? Number.NaN : values.reduce((total, value) => total + value, 0) / values.length;

/** Document ids in first-seen order (a document's best chunk decides its rank). */
export function uniqueInOrder(ids: Iterable<string>): string[] {
  return [...new Set(ids)];
}
