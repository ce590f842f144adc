/**
 * An in-process stand-in for a Qdrant server at the REST level, for machines without one: every
 * request is first checked against Qdrant's OpenAPI document (when given, as the tests do) and
 * refused with 400/404 like the server; then it is answered with the server's semantics
 * (./fake-qdrant-engine.ts): aliases resolved for reads and writes, payload indexes required by
 * facets, `with_payload` honoured, server errors in Qdrant's `{status: {error}}` shape. It is a
 * QdrantTransport (plug it into the adapter directly) and records every request. It is not a
 * substitute for the live contract run (QDRANT_URL).
 */
import {
  type CollectionState,
  checkVector,
  FakeQdrantError,
  type Filter,
  matches,
  type Point,
  type QueryBody,
  runQuery,
  type Scored,
  selectPayload,
} from "./fake-qdrant-engine.js";
import type { OpenApiChecker } from "./openapi-check.js";
import type { QdrantRequest, QdrantResponse, QdrantTransport } from "./rest.js";

export type RecordedRequest = { method: string; path: string; operation: string; collection: string; body: unknown };

export type FakeQdrantOptions = {
  /** Checks every request against Qdrant's OpenAPI document; without it only the semantics are checked. */
  openApi?: OpenApiChecker;
  /** What GET / reports. Default "1.18.3". */
  version?: string;
  /** Answers instead of the fake when it returns a response (fault injection: 429, 413, 403...). */
  intercept?: (request: QdrantRequest) => QdrantResponse | undefined | Promise<QdrantResponse | undefined>;
};

export type FakeQdrant = {
  transport: QdrantTransport;
  requests: RecordedRequest[];
  /** Collection names (not aliases), for assertions. */
  collectionNames(): string[];
  aliases(): Map<string, string>;
  options: FakeQdrantOptions;
};

const KEYWORD_TYPES = new Set(["keyword", "integer", "uuid"]);

function ok(result: unknown): QdrantResponse {
  return { status: 200, headers: {}, body: { result, status: "ok", time: 0 } };
}

export function fail(status: number, error: string): QdrantResponse {
  return { status, headers: {}, body: { status: { error }, time: 0 } };
}

export function createFakeQdrant(options: FakeQdrantOptions = {}): FakeQdrant {
  const collections = new Map<string, CollectionState>();
  const aliases = new Map<string, string>();
  const requests: RecordedRequest[] = [];

  const resolve = (name: string): CollectionState => {
    const collection = collections.get(aliases.get(name) ?? name);
    if (collection === undefined) throw new FakeQdrantError(404, `Not found: Collection \`${name}\` doesn't exist!`);
    return collection;
  };

  function describe(collection: CollectionState) {
    return {
      status: "green",
      optimizer_status: "ok",
      segments_count: 1,
      points_count: collection.points.size,
      indexed_vectors_count: 0,
      config: {
        params: {
          vectors: collection.vectors,
          sparse_vectors: collection.sparse,
          shard_number: collection.shardNumber,
          replication_factor: 1,
          write_consistency_factor: 1,
          on_disk_payload: true,
        },
        hnsw_config: { m: 16, ef_construct: 100, full_scan_threshold: 10000 },
        optimizer_config: {},
      },
      payload_schema: Object.fromEntries(
        Object.entries(collection.payloadSchema).map(([key, schema]) => [
          key,
          { ...schema, points: [...collection.points.values()].filter((point) => key in point.payload).length },
        ]),
      ),
    };
  }

  function createCollection(name: string, body: Record<string, unknown>): boolean {
    if (collections.has(name) || aliases.has(name)) {
      throw new FakeQdrantError(409, `Wrong input: Collection \`${name}\` already exists!`);
    }
    const vectors = body.vectors as Record<string, unknown> | undefined;
    const named = vectors !== undefined && "size" in vectors ? { "": vectors } : (vectors ?? {});
    collections.set(name, {
      vectors: named as CollectionState["vectors"],
      sparse: (body.sparse_vectors ?? {}) as CollectionState["sparse"],
      payloadSchema: {},
      shardNumber: typeof body.shard_number === "number" ? body.shard_number : 1,
      points: new Map(),
    });
    return true;
  }

  function deleteCollection(name: string): boolean {
    if (!collections.delete(name)) return false;
    for (const [alias, target] of aliases) if (target === name) aliases.delete(alias);
    return true;
  }

  /** All actions apply, or none (Qdrant applies one alias request atomically). */
  function updateAliases(actions: Record<string, Record<string, string>>[]): boolean {
    const next = new Map(aliases);
    for (const action of actions) {
      if (action.create_alias !== undefined) {
        const { collection_name: target = "", alias_name: alias = "" } = action.create_alias;
        if (!collections.has(target))
          throw new FakeQdrantError(404, `Not found: Collection \`${target}\` doesn't exist!`);
        if (collections.has(alias)) {
          throw new FakeQdrantError(409, `Wrong input: Collection \`${alias}\` already exists!`);
        }
        next.set(alias, target);
      } else if (action.delete_alias !== undefined) {
        const alias = action.delete_alias.alias_name ?? "";
        if (!next.delete(alias)) throw new FakeQdrantError(404, `Not found: Alias \`${alias}\` doesn't exist!`);
      } else if (action.rename_alias !== undefined) {
        const { old_alias_name: from = "", new_alias_name: to = "" } = action.rename_alias;
        const target = next.get(from);
        if (target === undefined) throw new FakeQdrantError(404, `Not found: Alias \`${from}\` doesn't exist!`);
        next.delete(from);
        next.set(to, target);
      }
    }
    aliases.clear();
    for (const [alias, target] of next) aliases.set(alias, target);
    return true;
  }

  function upsert(collection: CollectionState, points: { id: string | number; vector: unknown; payload?: unknown }[]) {
    for (const point of points) {
      const vectors = (Array.isArray(point.vector) ? { "": point.vector } : point.vector) as Point["vectors"];
      for (const [name, vector] of Object.entries(vectors)) checkVector(collection, name, vector);
      const id = typeof point.id === "string" ? point.id.toLowerCase() : point.id;
      collection.points.set(String(id), { id, vectors, payload: (point.payload ?? {}) as Record<string, unknown> });
    }
    return { operation_id: 0, status: "completed" };
  }

  function scored(list: Scored[], body: Record<string, unknown>) {
    return list.map(({ point, score }) => ({
      id: point.id,
      version: 0,
      score,
      payload: selectPayload(point.payload, body.with_payload),
      vector: body.with_vector === true ? point.vectors : null,
    }));
  }

  function facet(collection: CollectionState, body: { key: string; limit?: number; filter?: Filter }) {
    const type = collection.payloadSchema[body.key]?.data_type;
    if (type === undefined || !KEYWORD_TYPES.has(type)) {
      throw new FakeQdrantError(
        400,
        `Bad request: Index required but not found for "${body.key}" of one of the following types: [keyword, integer, uuid]. Help: Create an index for this key or use a different filter.`,
      );
    }
    const counts = new Map<unknown, number>();
    for (const point of collection.points.values()) {
      if (!matches(point, body.filter)) continue;
      const value = point.payload[body.key];
      if (value !== undefined) counts.set(value, (counts.get(value) ?? 0) + 1);
    }
    const hits = [...counts.entries()].map(([value, count]) => ({ value, count }));
    hits.sort((left, right) => right.count - left.count || String(left.value).localeCompare(String(right.value)));
    return { hits: hits.slice(0, body.limit ?? 10) };
  }

  function scroll(collection: CollectionState, body: Record<string, unknown>) {
    const all = [...collection.points.values()]
      .filter((point) => matches(point, body.filter as Filter))
      .sort((left, right) => String(left.id).localeCompare(String(right.id)));
    const offset = body.offset === undefined || body.offset === null ? undefined : String(body.offset);
    const start =
      offset === undefined
        ? 0
        : Math.max(
            0,
            all.findIndex((point) => String(point.id) >= offset),
          );
    const limit = typeof body.limit === "number" ? body.limit : 10;
    const page = all.slice(start, start + limit);
    return {
      points: page.map((point) => ({ id: point.id, payload: selectPayload(point.payload, body.with_payload ?? true) })),
      next_page_offset: all[start + limit]?.id ?? null,
    };
  }

  function answer(operation: string, params: Record<string, string>, body: Record<string, unknown>): unknown {
    const name = params.collection_name ?? "";
    switch (operation) {
      case "root":
        return { title: "qdrant - vector search engine", version: options.version ?? "1.18.3" };
      case "get_collections":
        return { collections: [...collections.keys()].map((each) => ({ name: each })) };
      case "get_collections_aliases":
        return {
          aliases: [...aliases].map(([alias, target]) => ({ alias_name: alias, collection_name: target })),
        };
      case "collection_exists":
        return { exists: collections.has(name) };
      case "get_collection":
        return describe(resolve(name));
      case "create_collection":
        return createCollection(name, body);
      case "delete_collection":
        return deleteCollection(name);
      case "update_aliases":
        return updateAliases(body.actions as Record<string, Record<string, string>>[]);
      case "create_field_index": {
        const collection = resolve(name);
        collection.payloadSchema[String(body.field_name)] = { data_type: String(body.field_schema) };
        return { operation_id: 0, status: "completed" };
      }
      case "upsert_points":
        return upsert(resolve(name), body.points as never);
      case "get_points": {
        const collection = resolve(name);
        return (body.ids as (string | number)[])
          .map((id) => collection.points.get(String(typeof id === "string" ? id.toLowerCase() : id)))
          .filter((point): point is Point => point !== undefined)
          .map((point) => ({ id: point.id, payload: selectPayload(point.payload, body.with_payload ?? true) }));
      }
      case "delete_points": {
        const collection = resolve(name);
        const ids = (body.points as (string | number)[] | undefined)?.map((id) => String(id).toLowerCase());
        for (const point of [...collection.points.values()]) {
          const byId = ids?.includes(String(point.id)) ?? false;
          if (byId || (body.filter !== undefined && matches(point, body.filter as Filter))) {
            collection.points.delete(String(point.id));
          }
        }
        return { operation_id: 0, status: "completed" };
      }
      case "scroll_points":
        return scroll(resolve(name), body);
      case "count_points": {
        const points = [...resolve(name).points.values()];
        return { count: points.filter((point) => matches(point, body.filter as Filter)).length };
      }
      case "facet":
        return facet(resolve(name), body as never);
      case "query_points":
        return { points: scored(runQuery(resolve(name), body as QueryBody), body) };
      case "query_batch_points": {
        const collection = resolve(name);
        return (body.searches as Record<string, unknown>[]).map((search) => ({
          points: scored(runQuery(collection, search as QueryBody), search),
        }));
      }
      default:
        throw new FakeQdrantError(404, `The fake Qdrant does not implement ${operation}`);
    }
  }

  const transport: QdrantTransport = async (request) => {
    if (request.signal?.aborted) throw request.signal.reason;
    const intercepted = await options.intercept?.(request);
    if (intercepted !== undefined) return intercepted;
    const query = Object.fromEntries(
      Object.entries(request.query ?? {})
        .filter(([, value]) => value !== undefined)
        .map(([key, value]) => [key, String(value)]),
    );
    let operation = "";
    let params: Record<string, string> = {};
    if (options.openApi !== undefined) {
      const checked = options.openApi.check({ method: request.method, path: request.path, query, body: request.body });
      if (!checked.ok) return fail(checked.status, checked.error);
      operation = checked.operation.operationId;
      params = checked.operation.params;
    } else {
      ({ operation, params } = routeWithoutSpec(request.method, request.path));
    }
    const body = structuredClone((request.body ?? {}) as Record<string, unknown>);
    requests.push({
      method: request.method,
      path: request.path,
      operation,
      collection: params.collection_name ?? "",
      body,
    });
    try {
      const result = answer(operation, params, body);
      return operation === "root" ? { status: 200, headers: {}, body: result } : ok(result);
    } catch (error) {
      if (error instanceof FakeQdrantError) return fail(error.status, error.message);
      throw error;
    }
  };

  return {
    transport,
    requests,
    options,
    collectionNames: () => [...collections.keys()].sort(),
    aliases: () => new Map(aliases),
  };
}

/** The routes the adapter uses, for runs without the OpenAPI document. */
const ROUTES: [string, RegExp, string][] = [
  ["GET", /^\/$/, "root"],
  ["GET", /^\/collections$/, "get_collections"],
  ["GET", /^\/aliases$/, "get_collections_aliases"],
  ["POST", /^\/collections\/aliases$/, "update_aliases"],
  ["GET", /^\/collections\/([^/]+)\/exists$/, "collection_exists"],
  ["GET", /^\/collections\/([^/]+)$/, "get_collection"],
  ["PUT", /^\/collections\/([^/]+)$/, "create_collection"],
  ["DELETE", /^\/collections\/([^/]+)$/, "delete_collection"],
  ["PUT", /^\/collections\/([^/]+)\/index$/, "create_field_index"],
  ["PUT", /^\/collections\/([^/]+)\/points$/, "upsert_points"],
  ["POST", /^\/collections\/([^/]+)\/points$/, "get_points"],
  ["POST", /^\/collections\/([^/]+)\/points\/delete$/, "delete_points"],
  ["POST", /^\/collections\/([^/]+)\/points\/scroll$/, "scroll_points"],
  ["POST", /^\/collections\/([^/]+)\/points\/count$/, "count_points"],
  ["POST", /^\/collections\/([^/]+)\/facet$/, "facet"],
  ["POST", /^\/collections\/([^/]+)\/points\/query$/, "query_points"],
  ["POST", /^\/collections\/([^/]+)\/points\/query\/batch$/, "query_batch_points"],
];

function routeWithoutSpec(method: string, path: string): { operation: string; params: Record<string, string> } {
  for (const [routeMethod, pattern, operation] of ROUTES) {
    const match = routeMethod === method ? pattern.exec(path) : null;
    if (match !== null) {
      return { operation, params: match[1] === undefined ? {} : { collection_name: decodeURIComponent(match[1]) } };
    }
  }
  return { operation: "unknown", params: {} };
}
