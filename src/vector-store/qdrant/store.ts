/**
 * The Qdrant VectorStore adapter: per category a collection `<name>_<generation>` behind the alias
 * `<name>` (embedded_articles/posts/repositories), each point a chunk (id = chunk id, a UUID) with
 * a named dense vector "dense" (cosine) and a sparse vector "sparse" (BM25 term weights, IDF
 * applied by Qdrant), the chunk fields as payload, keyword payload indexes on author_id and
 * document_id. Dense and lexical searches are one Query API call; hybrid runs both lists in one
 * batch call and fuses them client-side with the project's fuseHybrid, so it ranks
 * exactly as the LanceDB adapter does and works on every server version. The metadata is one
 * point of `llm_twin_metadata` (also an alias), so a rebuild publishes chunks and metadata in one
 * atomic alias swap (./rebuild.ts).
 */
import type { Author, DataCategory, EmbeddedChunk } from "../../domain/index.js";
import { AppError } from "../../errors/app-error.js";
import { ALL_CATEGORIES, collectionName } from "../collections.js";
import { newGeneration } from "../generations.js";
import { parseStoreMetadata } from "../metadata-file.js";
import type { SearchHit, SearchRequest, StoreMetadata, StoreRebuild, UpsertOptions, VectorStore } from "../port.js";
import {
  dimensionMismatch,
  groupChunksByCategory,
  throwIfAborted,
  validateSearchRequest,
} from "../request-validation.js";
import { QdrantCollections } from "./collection-admin.js";
import { type QdrantStoreOptions, type ResolvedQdrantOptions, resolveQdrantOptions } from "./options.js";
import { chunkPayload } from "./payload.js";
import { dropAll, publishRebuild } from "./rebuild.js";
import { createFetchTransport, createRest, isStatus, type Rest } from "./rest.js";
import { checkServerVersion, DENSE_VECTOR, KEYWORD_INDEXES, SPARSE_VECTOR } from "./schema-guard.js";
import { searchCollection } from "./search.js";
import { encodeDocument } from "./sparse.js";
import { splitByBytes } from "./upsert-batches.js";

export { DENSE_VECTOR, SPARSE_VECTOR } from "./schema-guard.js";
export const METADATA_COLLECTION = "llm_twin_metadata";
const METADATA_POINT_ID = 1;
const SCROLL_PAGE = 1_000;
/** Writes wait until applied; `strong` ordering sends them through the shard leader, in order. */
const WRITE = { wait: true, ordering: "strong" } as const;
/** Reads of metadata and chunk ids see what a majority of replicas holds (read-after-write on a cluster). */
const READ = { consistency: "majority" } as const;

type Filter = { must: { key: string; match: { value: string } | { any: string[] } }[] };
type Role = { kind: "live"; generation: string } | { kind: "rebuild"; generation: string };

export async function openQdrantStore(options: QdrantStoreOptions): Promise<VectorStore> {
  const settings = resolveQdrantOptions(options);
  const location = `qdrant:${options.url}`;
  const transport =
    options.transport ??
    createFetchTransport({ url: options.url, ...(options.apiKey === undefined ? {} : { apiKey: options.apiKey }) });
  const rest = createRest({
    transport,
    location,
    timeoutMs: settings.timeoutMs,
    retries: settings.retries,
    backoffMs: settings.backoffMs,
  });
  await checkServerVersion(rest, location);
  return new QdrantStore(rest, settings, location, { kind: "live", generation: newGeneration() });
}

export class QdrantStore implements VectorStore {
  readonly kind = "qdrant";
  readonly location: string;
  readonly supportsLexical = true;
  readonly #rest: Rest;
  readonly #settings: ResolvedQdrantOptions;
  readonly #role: Role;
  readonly #collections: QdrantCollections;

  constructor(rest: Rest, settings: ResolvedQdrantOptions, location: string, role: Role) {
    this.#rest = rest;
    this.#settings = settings;
    this.#role = role;
    this.location = role.kind === "rebuild" ? `${location} (rebuild ${role.generation})` : location;
    this.#collections = new QdrantCollections({
      rest,
      alias: (category) => this.alias(category),
      target: (category) => this.#target(category),
      path: (category, suffix) => this.#path(category, suffix),
      generation: role.generation,
      live: role.kind === "live",
      shardNumber: settings.shardNumber,
    });
  }

  /** The alias readers use for a category (or the metadata: category undefined). */
  alias(category: DataCategory | undefined): string {
    return `${this.#settings.collectionPrefix}${category === undefined ? METADATA_COLLECTION : collectionName(category)}`;
  }

  /** The name this store reads and writes: the alias (live) or its own versioned collection (rebuild). */
  #target(category: DataCategory | undefined): string {
    const alias = this.alias(category);
    return this.#role.kind === "rebuild" ? `${alias}_${this.#role.generation}` : alias;
  }

  #path(category: DataCategory | undefined, suffix = ""): string {
    return `/collections/${encodeURIComponent(this.#target(category))}${suffix}`;
  }

  async readMetadata(): Promise<StoreMetadata | undefined> {
    let points: { payload?: Record<string, unknown> | null }[];
    try {
      points = await this.#rest("metadata read", {
        method: "POST",
        path: this.#path(undefined, "/points"),
        query: READ,
        body: { ids: [METADATA_POINT_ID], with_payload: true, with_vector: false },
      });
    } catch (error) {
      if (isStatus(error, 404)) return undefined;
      throw error;
    }
    const text = points[0]?.payload?.metadata;
    return typeof text === "string" ? parseStoreMetadata(text, this.#target(undefined)) : undefined;
  }

  async writeMetadata(metadata: StoreMetadata): Promise<void> {
    if (!(await this.#collections.exists(undefined))) {
      await this.#collections.create(undefined, { vectors: { size: 1, distance: "Dot" }, shard_number: 1 });
    }
    await this.#rest("metadata write", {
      method: "PUT",
      path: this.#path(undefined, "/points"),
      query: WRITE,
      body: { points: [{ id: METADATA_POINT_ID, vector: [1], payload: { metadata: JSON.stringify(metadata) } }] },
    });
  }

  async ensureCollections(dimensions: number): Promise<void> {
    if (!Number.isInteger(dimensions) || dimensions < 1) {
      throw new AppError("validation_error", `Vector dimensions must be a positive integer, got ${dimensions}.`);
    }
    for (const category of ALL_CATEGORIES) await this.#collections.forWrite(category, dimensions);
  }

  async drop(): Promise<void> {
    const names = [...ALL_CATEGORIES, undefined].map((category) => this.alias(category));
    await dropAll(this.#rest, names, this.#role.kind === "rebuild" ? this.#role.generation : undefined);
    this.forgetCollections();
  }

  async startRebuild(): Promise<StoreRebuild> {
    if (this.#role.kind === "rebuild") throw new AppError("internal_error", `${this.location} is already a rebuild.`);
    const generation = newGeneration();
    const staging = new QdrantStore(this.#rest, this.#settings, this.location, { kind: "rebuild", generation });
    const names = [...ALL_CATEGORIES, undefined].map((category) => this.alias(category));
    let settled = false;
    return {
      store: staging,
      publish: async () => {
        if (settled) throw new AppError("internal_error", `The rebuild ${generation} is already settled.`);
        settled = true;
        await publishRebuild(this.#rest, names, generation);
        this.forgetCollections();
      },
      discard: async () => {
        if (settled) return;
        settled = true;
        await staging.drop();
      },
    };
  }

  async check(options: { signal?: AbortSignal } = {}): Promise<void> {
    this.forgetCollections();
    for (const category of ALL_CATEGORIES) {
      if ((await this.#collections.dimensions(category)) === undefined) continue;
      await this.#rest("check", {
        method: "POST",
        path: this.#path(category, "/points/scroll"),
        body: { limit: 1, with_payload: false, with_vector: false },
        ...(options.signal === undefined ? {} : { signal: options.signal }),
      });
    }
  }

  forgetCollections(): void {
    this.#collections.forget();
  }

  async upsert(chunks: readonly EmbeddedChunk[], options: UpsertOptions = {}): Promise<void> {
    throwIfAborted(options.signal);
    for (const [category, group] of groupChunksByCategory(chunks)) {
      await this.#collections.forWrite(category, group.dimensions);
      const points = group.chunks.map((chunk) => {
        const sparse = encodeDocument(chunk.text, this.#settings.sparse);
        return {
          id: chunk.id,
          vector: {
            [DENSE_VECTOR]: Array.from(chunk.vector),
            ...(sparse.indices.length === 0 ? {} : { [SPARSE_VECTOR]: sparse }),
          },
          payload: chunkPayload(chunk),
        };
      });
      for (const batch of splitByBytes(points, this.#settings.upsertBatchSize, this.#settings.maxRequestBytes)) {
        throwIfAborted(options.signal);
        await this.#rest("upsert", {
          method: "PUT",
          path: this.#path(category, "/points"),
          query: { wait: true },
          body: { points: batch },
          ...(options.signal === undefined ? {} : { signal: options.signal }),
        });
      }
    }
  }

  async chunkIdsByDocument(category: DataCategory, documentIds: readonly string[]): Promise<Map<string, Set<string>>> {
    const result = new Map<string, Set<string>>();
    if (documentIds.length === 0 || (await this.#collections.dimensions(category)) === undefined) return result;
    const filter: Filter = { must: [{ key: "document_id", match: { any: [...new Set(documentIds)] } }] };
    let offset: string | number | undefined;
    do {
      const page = await this.#rest<{
        points: { id: string | number; payload?: Record<string, unknown> | null }[];
        next_page_offset?: unknown;
      }>("scroll", {
        method: "POST",
        path: this.#path(category, "/points/scroll"),
        query: READ,
        body: {
          filter,
          limit: SCROLL_PAGE,
          with_payload: ["document_id"],
          with_vector: false,
          ...(offset === undefined ? {} : { offset }),
        },
      });
      for (const point of page.points) {
        const documentId = String(point.payload?.document_id);
        let ids = result.get(documentId);
        if (ids === undefined) {
          ids = new Set();
          result.set(documentId, ids);
        }
        ids.add(String(point.id));
      }
      const next = page.next_page_offset;
      offset = typeof next === "string" || typeof next === "number" ? next : undefined;
    } while (offset !== undefined);
    return result;
  }

  async deleteChunks(category: DataCategory, chunkIds: readonly string[]): Promise<void> {
    if (chunkIds.length === 0 || (await this.#collections.dimensions(category)) === undefined) return;
    await this.#rest("delete", {
      method: "POST",
      path: this.#path(category, "/points/delete"),
      query: { wait: true },
      body: { points: [...new Set(chunkIds)] },
    });
  }

  async deleteDocument(category: DataCategory, documentId: string): Promise<void> {
    if ((await this.#collections.dimensions(category)) === undefined) return;
    const filter: Filter = { must: [{ key: "document_id", match: { value: documentId } }] };
    await this.#rest("delete", {
      method: "POST",
      path: this.#path(category, "/points/delete"),
      query: { wait: true },
      body: { filter },
    });
  }

  async search(request: SearchRequest): Promise<SearchHit[]> {
    try {
      return await this.#search(request);
    } catch (error) {
      // A collection swapped or dropped under this reader (a rebuild published elsewhere): look again once.
      if (!(isStatus(error, 404) || isStatus(error, 400))) throw error;
      this.forgetCollections();
      return this.#search(request);
    }
  }

  async #search(request: SearchRequest): Promise<SearchHit[]> {
    const hybrid = validateSearchRequest(request);
    throwIfAborted(request.signal);
    const dimensions = await this.#collections.dimensions(request.category);
    if (dimensions === undefined) return [];
    if (request.mode !== "lexical" && request.vector !== undefined && request.vector.length !== dimensions) {
      throw dimensionMismatch(dimensions, request.vector.length, `search of ${this.#target(request.category)}`);
    }
    return searchCollection(
      { rest: this.#rest, path: (suffix) => this.#path(request.category, suffix), hnswEf: this.#settings.hnswEf },
      request,
      hybrid,
    );
  }

  async listAuthors(): Promise<Author[]> {
    const authors = new Map<string, Author>();
    for (const category of ALL_CATEGORIES) {
      if ((await this.#collections.dimensions(category)) === undefined) continue;
      const facet = await this.#rest<{ hits: { value: unknown }[] }>("facet", {
        method: "POST",
        path: this.#path(category, "/facet"),
        body: { key: "author_id", limit: 100_000, exact: true },
      });
      for (const hit of facet.hits) {
        const id = String(hit.value);
        if (authors.has(id)) continue;
        const page = await this.#rest<{ points: { payload?: Record<string, unknown> | null }[] }>("scroll", {
          method: "POST",
          path: this.#path(category, "/points/scroll"),
          body: {
            filter: { must: [{ key: "author_id", match: { value: id } }] },
            limit: 1,
            with_payload: ["author_full_name"],
            with_vector: false,
          },
        });
        authors.set(id, { id, fullName: String(page.points[0]?.payload?.author_full_name ?? id) });
      }
    }
    return [...authors.values()].sort((left, right) => left.fullName.localeCompare(right.fullName));
  }

  async count(category?: DataCategory): Promise<number> {
    let total = 0;
    for (const each of category === undefined ? ALL_CATEGORIES : [category]) {
      if ((await this.#collections.dimensions(each)) === undefined) continue;
      const counted = await this.#rest<{ count: number }>("count", {
        method: "POST",
        path: this.#path(each, "/points/count"),
        body: { exact: true },
      });
      total += counted.count;
    }
    return total;
  }

  /** Qdrant builds and maintains its indexes itself. */
  async optimize(): Promise<void> {}

  /** The REST calls hold no connection to release. */
  async [Symbol.asyncDispose](): Promise<void> {}
}

export { KEYWORD_INDEXES };
