/**
 * Fusion of ranked lists, pure and shared by the stores' hybrid search and the RAG service.
 *
 * - `reciprocalRankFusion` (Cormack et al., 2009): each list contributes weight / (k + rank) to
 *   every id it holds. Rank-only: used to merge the results of several queries and categories.
 * - `agreementFusion`: hybrid search's default. A convex combination of the two lists' scores,
 *   each divided by its list's best score, where the dense list's weight is `denseWeight` times the
 *   agreement of the two lists (the share of their top `agreementDepth` ids they have in common);
 *   the dense list scores only its top `denseDepth` ids (its tail keeps its ids, at score 0).
 *   Rank fusion throws away BM25's score margins and lets a weak embedder move documents as much as
 *   a good one; here a dense list that disagrees with the lexical one (noise, or an embedder that
 *   does not know the domain) gets little say, one that agrees refines the order. Measured in
 *   docs/evaluation.md ("Hybrid fusion").
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

/** Hybrid fusion methods a store accepts (`HybridOptions.fusion`). */
export const HYBRID_FUSIONS = ["agreement", "rrf"] as const;
export type HybridFusion = (typeof HYBRID_FUSIONS)[number];
export const DEFAULT_HYBRID_FUSION: HybridFusion = "agreement";
/** Ids from the top of each list compared to measure agreement. */
export const DEFAULT_AGREEMENT_DEPTH = 20;
/** Ids from the top of the dense list that get a dense score. */
export const DEFAULT_DENSE_DEPTH = 40;

/** One list's candidates, best first, with the list's own score (higher is better). */
export type ScoredId = { id: string; score: number };

export type AgreementFusionOptions = {
  /** The dense list's weight when the two lists fully agree (0..1); the lexical list gets the rest. */
  denseWeight: number;
  /** How many top ids of each list are compared. Default DEFAULT_AGREEMENT_DEPTH. */
  agreementDepth?: number;
  /**
   * How many top ids of the dense list get a dense score (deeper ones count 0 from it): cosine
   * scores deep in the list are flat, and without this cap the fusion changed with the number of
   * candidates asked. Default DEFAULT_DENSE_DEPTH.
   */
  denseDepth?: number;
};

/**
 * The share of the shorter top-`depth` prefix that the two lists have in common, in [0, 1]
 * (0 when either is empty). Duplicates count once.
 */
export function listAgreement(left: readonly string[], right: readonly string[], depth: number): number {
  if (!Number.isInteger(depth) || depth < 1)
    throw new RangeError(`agreement depth must be an integer >= 1, got ${depth}`);
  const leftTop = new Set(left.slice(0, depth));
  const rightTop = new Set(right.slice(0, depth));
  const size = Math.min(leftTop.size, rightTop.size);
  if (size === 0) return 0;
  let common = 0;
  for (const id of rightTop) if (leftTop.has(id)) common += 1;
  return Math.min(1, common / size);
}

/**
 * Scores divided by the list's best one (negative scores count as 0); a duplicate keeps its best;
 * entries past `depth` score 0.
 */
function normalizedScores(list: readonly ScoredId[], depth = Number.POSITIVE_INFINITY): Map<string, number> {
  let best = 0;
  for (const { score } of list) if (Number.isFinite(score) && score > best) best = score;
  const scores = new Map<string, number>();
  for (const [index, { id, score }] of list.entries()) {
    const value = index < depth && best > 0 && Number.isFinite(score) ? Math.max(0, score) / best : 0;
    if (!scores.has(id) || (scores.get(id) ?? 0) < value) scores.set(id, value);
  }
  return scores;
}

/**
 * Agreement-weighted score fusion of a dense and a lexical list (see the file comment). The
 * dense weight used is `denseWeight × listAgreement(...)`; when the lexical list is empty (no
 * query term in the corpus) the dense list alone decides, and vice versa. Ties are broken by first
 * appearance (lexical list first). Each result's score is its fused score, in [0, 1].
 */
export function agreementFusion(
  lists: { dense: readonly ScoredId[]; lexical: readonly ScoredId[] },
  options: AgreementFusionOptions,
): FusedResult[] {
  const maxWeight = options.denseWeight;
  if (!(maxWeight >= 0 && maxWeight <= 1)) throw new RangeError(`dense weight must be within [0, 1], got ${maxWeight}`);
  const depth = options.agreementDepth ?? DEFAULT_AGREEMENT_DEPTH;
  let weight: number;
  if (lists.lexical.length === 0) weight = 1;
  else if (lists.dense.length === 0) weight = 0;
  else {
    const agreement = listAgreement(
      lists.lexical.map((entry) => entry.id),
      lists.dense.map((entry) => entry.id),
      depth,
    );
    weight = maxWeight * agreement;
  }
  const lexical = normalizedScores(lists.lexical);
  const denseDepth = options.denseDepth ?? DEFAULT_DENSE_DEPTH;
  if (!Number.isInteger(denseDepth) || denseDepth < 1) {
    throw new RangeError(`dense depth must be an integer >= 1, got ${denseDepth}`);
  }
  const dense = normalizedScores(lists.dense, denseDepth);
  const order = new Map<string, number>();
  for (const id of [...lexical.keys(), ...dense.keys()]) if (!order.has(id)) order.set(id, order.size);
  return [...order.keys()]
    .map((id) => ({ id, score: (1 - weight) * (lexical.get(id) ?? 0) + weight * (dense.get(id) ?? 0) }))
    .sort((left, right) => right.score - left.score || (order.get(left.id) ?? 0) - (order.get(right.id) ?? 0));
}

/** A store's hybrid fusion of its dense and lexical candidates, as `HybridOptions` resolved it. */
export function fuseHybrid(
  dense: readonly ScoredId[],
  lexical: readonly ScoredId[],
  options: { fusion: HybridFusion; denseWeight: number; rrfK: number },
): FusedResult[] {
  if (options.fusion === "agreement") return agreementFusion({ dense, lexical }, { denseWeight: options.denseWeight });
  return reciprocalRankFusion(
    [
      { ids: dense.map((entry) => entry.id), weight: options.denseWeight },
      { ids: lexical.map((entry) => entry.id), weight: 1 - options.denseWeight },
    ],
    { k: options.rrfK },
  );
}
