/**
 * What the fake Qdrant computes, as the server does (lib/segment and lib/collection of
 * qdrant/qdrant, v1.18): cosine on normalised vectors, sparse dot products with the `idf`
 * modifier's BM25-style IDF, keyword `must` filters, weighted RRF
 * `1 / ((rank0 + 1) / weight + k - 1)` with default k = 2, and `with_payload` selectors.
 */

export type Sparse = { indices: number[]; values: number[] };
export type Point = {
  id: string | number;
  vectors: Record<string, number[] | Sparse>;
  payload: Record<string, unknown>;
};
export type VectorParams = { size: number; distance: string };
export type CollectionState = {
  vectors: Record<string, VectorParams>;
  sparse: Record<string, { modifier?: string }>;
  payloadSchema: Record<string, { data_type: string }>;
  shardNumber: number;
  points: Map<string, Point>;
};
type Condition = { key: string; match: { value?: unknown; any?: unknown[] } };
export type Filter = { must?: Condition[] } | null | undefined;
export type QueryBody = {
  prefetch?: QueryBody | QueryBody[];
  query?: unknown;
  using?: string;
  filter?: Filter;
  limit?: number;
};
export type Scored = { point: Point; score: number };

/** A request the server refuses: status and its `status.error` text. */
export class FakeQdrantError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export const DEFAULT_RRF_K = 2;

export function matches(point: Point, filter: Filter): boolean {
  for (const condition of filter?.must ?? []) {
    const value = point.payload[condition.key];
    if ("value" in condition.match && value !== condition.match.value) return false;
    if (condition.match.any !== undefined && !condition.match.any.includes(value)) return false;
  }
  return true;
}

export function isSparse(value: unknown): value is Sparse {
  return typeof value === "object" && value !== null && !Array.isArray(value) && "indices" in value;
}

/** Qdrant's IDF of the `idf` modifier: ln(1 + (N - n + 0.5) / (n + 0.5)). */
function idf(collection: CollectionState, using: string, index: number): number {
  let containing = 0;
  for (const point of collection.points.values()) {
    const vector = point.vectors[using];
    if (isSparse(vector) && vector.indices.includes(index)) containing++;
  }
  const total = collection.points.size;
  return Math.log(1 + (total - containing + 0.5) / (containing + 0.5));
}

function cosine(left: number[], right: number[]): number {
  const norm = (vector: number[]) => Math.hypot(...vector) || 1;
  let dot = 0;
  for (let axis = 0; axis < left.length; axis++) dot += (left[axis] ?? 0) * (right[axis] ?? 0);
  return dot / (norm(left) * norm(right));
}

/** Refuses what the server refuses about vectors: unknown names, wrong dimensions. */
export function checkVector(collection: CollectionState, name: string, vector: unknown): void {
  const dense = collection.vectors[name];
  const sparse = collection.sparse[name];
  if (dense === undefined && sparse === undefined) {
    throw new FakeQdrantError(400, `Wrong input: Not existing vector name error: ${name}`);
  }
  if (dense !== undefined) {
    if (!Array.isArray(vector))
      throw new FakeQdrantError(400, `Wrong input: Conversion between sparse and regular vectors failed`);
    if (vector.length !== dense.size) {
      throw new FakeQdrantError(
        400,
        `Wrong input: Vector dimension error: expected dim: ${dense.size}, got ${vector.length}`,
      );
    }
  } else if (!isSparse(vector)) {
    throw new FakeQdrantError(400, "Wrong input: Conversion between sparse and regular vectors failed");
  } else if (new Set(vector.indices).size !== vector.indices.length || vector.indices.length !== vector.values.length) {
    throw new FakeQdrantError(400, "Validation error in JSON body: [sparse: must be unique indices of equal length]");
  }
}

function scoreOne(
  collection: CollectionState,
  point: Point,
  using: string,
  query: unknown,
  idfs: Map<number, number>,
): number | undefined {
  const stored = point.vectors[using];
  if (stored === undefined) return undefined;
  if (isSparse(query) && isSparse(stored)) {
    const weighted = collection.sparse[using]?.modifier === "idf";
    let total = 0;
    let overlap = false;
    query.indices.forEach((index, position) => {
      const at = stored.indices.indexOf(index);
      if (at < 0) return;
      overlap = true;
      let weight = 1;
      if (weighted) {
        weight = idfs.get(index) ?? idf(collection, using, index);
        idfs.set(index, weight);
      }
      total += (query.values[position] ?? 0) * (stored.values[at] ?? 0) * weight;
    });
    return overlap ? total : undefined;
  }
  if (Array.isArray(query) && Array.isArray(stored)) return cosine(query, stored);
  return undefined;
}

/** Ties: Qdrant gives no order; the fake breaks them by id so tests are deterministic. */
function byScore(left: Scored, right: Scored): number {
  return right.score - left.score || String(left.point.id).localeCompare(String(right.point.id));
}

export function runQuery(collection: CollectionState, body: QueryBody, outerFilter: Filter = undefined): Scored[] {
  const limit = body.limit ?? 10;
  const filter = body.filter ?? outerFilter;
  const prefetches = body.prefetch === undefined ? [] : Array.isArray(body.prefetch) ? body.prefetch : [body.prefetch];
  if (prefetches.length > 0) {
    const lists = prefetches.map((prefetch) => runQuery(collection, prefetch, filter));
    const query = body.query as { fusion?: string; rrf?: { k?: number | null; weights?: number[] | null } };
    if (query?.fusion !== "rrf" && query?.rrf === undefined) {
      throw new FakeQdrantError(400, "The fake Qdrant only implements rrf fusion over prefetches");
    }
    const k = query.rrf?.k ?? DEFAULT_RRF_K;
    const weights = query.rrf?.weights ?? undefined;
    if (weights !== undefined && weights.length !== lists.length) {
      throw new FakeQdrantError(
        400,
        `Wrong input: Number of weights in RRF should match number of pre-fetches: got ${weights.length}, expected ${lists.length}`,
      );
    }
    const fused = new Map<string, Scored>();
    lists.forEach((list, which) => {
      const weight = weights?.[which] ?? 1;
      list.forEach(({ point }, position) => {
        if (!matches(point, filter)) return;
        const contribution = weight <= 0 ? 0 : 1 / ((position + 1) / weight + k - 1);
        const entry = fused.get(String(point.id)) ?? { point, score: 0 };
        entry.score += contribution;
        fused.set(String(point.id), entry);
      });
    });
    return [...fused.values()].sort(byScore).slice(0, limit);
  }
  const using = body.using ?? "";
  checkVector(collection, using, body.query);
  const scored: Scored[] = [];
  const idfs = new Map<number, number>();
  for (const point of collection.points.values()) {
    if (!matches(point, filter)) continue;
    const value = scoreOne(collection, point, using, body.query, idfs);
    if (value !== undefined) scored.push({ point, score: value });
  }
  return scored.sort(byScore).slice(0, limit);
}

/** The payload as `with_payload` selects it (true, false, a key list, {include} or {exclude}). */
export function selectPayload(payload: Record<string, unknown>, selector: unknown): Record<string, unknown> | null {
  if (selector === undefined || selector === null || selector === false) return null;
  if (selector === true) return payload;
  const pick = (keys: string[]) =>
    Object.fromEntries(keys.filter((key) => key in payload).map((key) => [key, payload[key]]));
  if (Array.isArray(selector)) return pick(selector as string[]);
  const { include, exclude } = selector as { include?: string[]; exclude?: string[] };
  if (include !== undefined) return pick(include);
  if (exclude !== undefined)
    return Object.fromEntries(Object.entries(payload).filter(([key]) => !exclude.includes(key)));
  return payload;
}
