/**
 * Searches of one Qdrant collection: dense and lexical are one Query API call each; hybrid asks
 * both candidate lists (ids only) in one batch request, fuses them with the project's
 * fuseHybrid (so it ranks exactly as the LanceDB adapter does), then fetches the
 * winners' payloads.
 */
import { fuseHybrid } from "../fusion.js";
import type { SearchHit, SearchRequest } from "../port.js";
import { type ResolvedHybrid, throwIfAborted } from "../request-validation.js";
import { payloadToChunk } from "./payload.js";
import type { Rest } from "./rest.js";
import { DENSE_VECTOR, SPARSE_VECTOR } from "./schema-guard.js";
import { encodeQuery } from "./sparse.js";

export type SearchContext = {
  rest: Rest;
  /** The REST path of the searched collection with `suffix` appended. */
  path: (suffix: string) => string;
  hnswEf: number;
};

type Filter = { must: { key: string; match: { value: string } }[] };
type ScoredPoint = { id: string | number; score: number; payload?: Record<string, unknown> | null };

export async function searchCollection(
  context: SearchContext,
  request: SearchRequest,
  hybrid: ResolvedHybrid,
): Promise<SearchHit[]> {
  const filter: Filter | undefined =
    request.filter?.authorId === undefined
      ? undefined
      : { must: [{ key: "author_id", match: { value: request.filter.authorId } }] };
  const signal = request.signal === undefined ? {} : { signal: request.signal };
  const dense = (limit: number, withPayload: boolean) => ({
    query: Array.from(request.vector ?? []),
    using: DENSE_VECTOR,
    params: { hnsw_ef: Math.max(context.hnswEf, limit) },
    limit,
    with_payload: withPayload,
    with_vector: false,
    ...(filter === undefined ? {} : { filter }),
  });
  const sparseQuery = request.text === undefined ? undefined : encodeQuery(request.text);
  const lexical = (limit: number, withPayload: boolean) => ({
    query: sparseQuery,
    using: SPARSE_VECTOR,
    limit,
    with_payload: withPayload,
    with_vector: false,
    ...(filter === undefined ? {} : { filter }),
  });
  const hits = (points: ScoredPoint[]) =>
    points.map((point) => ({
      chunk: payloadToChunk(String(point.id), point.payload ?? {}, request.category),
      score: point.score,
    }));
  if (request.mode !== "hybrid") {
    if (request.mode === "lexical" && sparseQuery?.indices.length === 0) return [];
    const body = request.mode === "dense" ? dense(request.limit, true) : lexical(request.limit, true);
    const response = await context.rest<{ points: ScoredPoint[] }>("query", {
      method: "POST",
      path: context.path("/points/query"),
      body,
      ...signal,
    });
    throwIfAborted(request.signal);
    return hits(response.points);
  }
  // Hybrid: both candidate lists (ids only) in one request, fused here, then the winners' payloads.
  const searches = [
    hybrid.denseWeight > 0 ? dense(hybrid.candidates, false) : undefined,
    hybrid.denseWeight < 1 && (sparseQuery?.indices.length ?? 0) > 0 ? lexical(hybrid.candidates, false) : undefined,
  ];
  const asked = searches.filter((search) => search !== undefined);
  const answers =
    asked.length === 0
      ? []
      : await context.rest<{ points: ScoredPoint[] }[]>("hybrid query", {
          method: "POST",
          path: context.path("/points/query/batch"),
          body: { searches: asked },
          ...signal,
        });
  let next = 0;
  const lists = searches.map((search) => (search === undefined ? [] : (answers[next++]?.points ?? [])));
  const fused = fuseHybrid(
    (lists[0] ?? []).map((point) => ({ id: String(point.id), score: point.score })),
    (lists[1] ?? []).map((point) => ({ id: String(point.id), score: point.score })),
    hybrid,
  ).slice(0, request.limit);
  if (fused.length === 0) return [];
  const points = await context.rest<{ id: string | number; payload?: Record<string, unknown> | null }[]>("payloads", {
    method: "POST",
    path: context.path("/points"),
    body: { ids: fused.map(({ id }) => id), with_payload: true, with_vector: false },
    ...signal,
  });
  throwIfAborted(request.signal);
  const byId = new Map(points.map((point) => [String(point.id), point]));
  return fused.flatMap(({ id, score }) => {
    const point = byId.get(id);
    return point === undefined ? [] : hits([{ id: point.id, score, payload: point.payload ?? null }]);
  });
}
