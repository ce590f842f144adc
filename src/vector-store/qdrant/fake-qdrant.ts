/**
 * An in-memory stand-in for the part of the Qdrant REST client the adapter uses, following
 * Qdrant's documented semantics (cosine scores, IDF-weighted sparse dot products, prefetch + RRF
 * with Qdrant's 0-based ranks and default k = 2, keyword filters, scroll paging). For tests on
 * machines without a Qdrant server; it also records every request so tests can check their shape.
 * It is not a substitute for the live contract run (QDRANT_URL).
 */
import type { QdrantApi } from "./options.js";

type Sparse = { indices: number[]; values: number[] };
type Point = { id: string | number; vectors: Record<string, number[] | Sparse>; payload: Record<string, unknown> };
type Collection = { config: Record<string, unknown>; points: Map<string, Point>; sparseIdf: boolean };
type Condition = { key: string; match: { value?: unknown; any?: unknown[] } };
type Filter = { must?: Condition[] } | undefined;
type QueryBody = {
  prefetch?: QueryBody[];
  query?: unknown;
  using?: string;
  filter?: Filter;
  limit?: number;
};

export type RecordedRequest = { method: string; collection: string; body: unknown };

function notFound(name: string): Error {
  return Object.assign(new Error(`Not found: Collection \`${name}\` doesn't exist!`), { status: 404 });
}

function matches(point: Point, filter: Filter): boolean {
  for (const condition of filter?.must ?? []) {
    const value = point.payload[condition.key];
    if ("value" in condition.match && value !== condition.match.value) return false;
    if (condition.match.any !== undefined && !condition.match.any.includes(value)) return false;
  }
  return true;
}

function isSparse(value: unknown): value is Sparse {
  return typeof value === "object" && value !== null && "indices" in value;
}

export function createFakeQdrant(): QdrantApi & { requests: RecordedRequest[] } {
  const collections = new Map<string, Collection>();
  const requests: RecordedRequest[] = [];
  const record = (method: string, collection: string, body: unknown = undefined) => {
    requests.push({ method, collection, body: structuredClone(body) });
  };
  const get = (name: string) => {
    const collection = collections.get(name);
    if (collection === undefined) throw notFound(name);
    return collection;
  };

  function score(collection: Collection, point: Point, using: string | undefined, query: unknown): number | undefined {
    const stored = point.vectors[using ?? ""];
    if (stored === undefined) return undefined;
    if (isSparse(query) && isSparse(stored)) {
      const documents = [...collection.points.values()];
      let total = 0;
      query.indices.forEach((index, position) => {
        const at = stored.indices.indexOf(index);
        if (at < 0) return;
        let weight = 1;
        if (collection.sparseIdf) {
          const containing = documents.filter((document) => {
            const vector = document.vectors[using ?? ""];
            return isSparse(vector) && vector.indices.includes(index);
          }).length;
          weight = Math.log(1 + (documents.length - containing + 0.5) / (containing + 0.5));
        }
        total += (query.values[position] ?? 0) * (stored.values[at] ?? 0) * weight;
      });
      return total > 0 ? total : undefined;
    }
    if (Array.isArray(query) && Array.isArray(stored)) {
      const norm = (vector: number[]) => Math.hypot(...vector) || 1;
      const dot = query.reduce((sum: number, value: number, axis) => sum + value * (stored[axis] ?? 0), 0);
      return dot / (norm(query) * norm(stored));
    }
    return undefined;
  }

  function run(collection: Collection, body: QueryBody): { point: Point; score: number }[] {
    const limit = body.limit ?? 10;
    const candidates = [...collection.points.values()].filter((point) => matches(point, body.filter));
    if (body.prefetch !== undefined) {
      const lists = body.prefetch.map((prefetch) => run(collection, prefetch));
      const query = body.query as { fusion?: string; rrf?: { k?: number; weights?: number[] } };
      const k = query.rrf?.k ?? 2;
      const fused = new Map<string, { point: Point; score: number }>();
      lists.forEach((list, which) => {
        const weight = query.rrf?.weights?.[which] ?? 1;
        list.forEach(({ point }, rank) => {
          if (!matches(point, body.filter)) return;
          const entry = fused.get(String(point.id)) ?? { point, score: 0 };
          entry.score += weight / (k + rank);
          fused.set(String(point.id), entry);
        });
      });
      return [...fused.values()].sort((left, right) => right.score - left.score).slice(0, limit);
    }
    const scored: { point: Point; score: number }[] = [];
    for (const point of candidates) {
      const value = score(collection, point, body.using, body.query);
      if (value !== undefined) scored.push({ point, score: value });
    }
    return scored.sort((left, right) => right.score - left.score).slice(0, limit);
  }

  const pick = (payload: Record<string, unknown>, selector: unknown) =>
    Array.isArray(selector) ? Object.fromEntries(selector.map((key: string) => [key, payload[key]])) : payload;

  const fake = {
    requests,
    async collectionExists(name: string) {
      record("collectionExists", name);
      return { exists: collections.has(name) };
    },
    async getCollection(name: string) {
      record("getCollection", name);
      const collection = get(name);
      return { config: { params: collection.config }, points_count: collection.points.size };
    },
    async createCollection(name: string, body: Record<string, unknown>) {
      record("createCollection", name, body);
      if (collections.has(name)) throw Object.assign(new Error("already exists"), { status: 409 });
      const sparse = body.sparse_vectors as Record<string, { modifier?: string }> | undefined;
      const sparseIdf = Object.values(sparse ?? {}).some((config) => config.modifier === "idf");
      collections.set(name, { config: { vectors: body.vectors }, points: new Map(), sparseIdf });
      return true;
    },
    async createPayloadIndex(name: string, body: unknown) {
      record("createPayloadIndex", name, body);
      get(name);
      return { operation_id: 0, status: "completed" };
    },
    async deleteCollection(name: string) {
      record("deleteCollection", name);
      return collections.delete(name);
    },
    async upsert(name: string, body: { points: { id: string | number; vector: unknown; payload?: unknown }[] }) {
      record("upsert", name, body);
      const collection = get(name);
      const vectorsConfig = collection.config.vectors as Record<string, { size?: number }> & { size?: number };
      for (const point of body.points) {
        const vectors = (Array.isArray(point.vector) ? { "": point.vector } : point.vector) as Point["vectors"];
        for (const [vectorName, vector] of Object.entries(vectors)) {
          const expected = vectorName === "" ? vectorsConfig.size : vectorsConfig[vectorName]?.size;
          if (Array.isArray(vector) && expected !== undefined && vector.length !== expected) {
            throw Object.assign(new Error(`Wrong input: Vector dimension error: expected dim: ${expected}`), {
              status: 400,
            });
          }
        }
        collection.points.set(String(point.id), {
          id: point.id,
          vectors,
          payload: (point.payload ?? {}) as Record<string, unknown>,
        });
      }
      return { operation_id: 0, status: "completed" };
    },
    async delete(name: string, body: { points?: (string | number)[]; filter?: Filter }) {
      record("delete", name, body);
      const collection = get(name);
      for (const point of [...collection.points.values()]) {
        const byId = body.points?.map(String).includes(String(point.id)) ?? false;
        if (byId || (body.filter !== undefined && matches(point, body.filter)))
          collection.points.delete(String(point.id));
      }
      return { operation_id: 0, status: "completed" };
    },
    async scroll(
      name: string,
      body: { filter?: Filter; limit?: number; offset?: string | number; with_payload?: unknown },
    ) {
      record("scroll", name, body);
      const all = [...get(name).points.values()]
        .filter((point) => matches(point, body.filter))
        .sort((left, right) => String(left.id).localeCompare(String(right.id)));
      const start = body.offset === undefined ? 0 : all.findIndex((point) => String(point.id) === String(body.offset));
      const limit = body.limit ?? 10;
      const page = all.slice(Math.max(start, 0), Math.max(start, 0) + limit);
      const next = all[Math.max(start, 0) + limit];
      return {
        points: page.map((point) => ({ id: point.id, payload: pick(point.payload, body.with_payload) })),
        next_page_offset: next?.id ?? null,
      };
    },
    async query(name: string, body: QueryBody & { with_payload?: unknown }) {
      record("query", name, body);
      const collection = get(name);
      return {
        points: run(collection, body).map(({ point, score }) => ({
          id: point.id,
          version: 0,
          score,
          payload: pick(point.payload, body.with_payload),
        })),
      };
    },
    async count(name: string, body: { filter?: Filter }) {
      record("count", name, body);
      return { count: [...get(name).points.values()].filter((point) => matches(point, body?.filter)).length };
    },
    async facet(name: string, body: { key: string; limit?: number }) {
      record("facet", name, body);
      const counts = new Map<unknown, number>();
      for (const point of get(name).points.values()) {
        const value = point.payload[body.key];
        counts.set(value, (counts.get(value) ?? 0) + 1);
      }
      return { hits: [...counts.entries()].map(([value, count]) => ({ value, count })) };
    },
    async retrieve(name: string, body: { ids: (string | number)[] }) {
      record("retrieve", name, body);
      const collection = get(name);
      return body.ids
        .map((id) => collection.points.get(String(id)))
        .filter((point): point is Point => point !== undefined)
        .map((point) => ({ id: point.id, payload: point.payload }));
    },
  };
  return fake as unknown as QdrantApi & { requests: RecordedRequest[] };
}
