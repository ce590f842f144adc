/**
 * The Qdrant VectorStore adapter: collections embedded_articles/posts/repositories, each point a
 * chunk (id = chunk id, a UUID) with a named dense vector "dense" (cosine) and a sparse vector
 * "sparse" (BM25 term weights, IDF applied by Qdrant), the chunk fields as payload, keyword
 * payload indexes on author_id and document_id. Searches use the Query API; hybrid is a dense and
 * a sparse prefetch fused with RRF. The metadata is one point of the `llm_twin_metadata` collection.
 */
import { QdrantClient } from "@qdrant/js-client-rest";
import type { Author, DataCategory, EmbeddedChunk } from "../../domain/index.js";
import { AppError } from "../../errors/app-error.js";
import { ALL_CATEGORIES, collectionName } from "../collections.js";
import { DEFAULT_RRF_K } from "../fusion.js";
import { parseStoreMetadata } from "../metadata-file.js";
import type { SearchHit, SearchRequest, StoreMetadata, UpsertOptions, VectorStore } from "../port.js";
import {
  DEFAULT_DENSE_WEIGHT,
  dimensionMismatch,
  groupChunksByCategory,
  throwIfAborted,
  validateSearchRequest,
} from "../request-validation.js";
import { callQdrant, isNotFound } from "./errors.js";
import type { QdrantApi, QdrantStoreOptions } from "./options.js";
import { chunkPayload, payloadToChunk } from "./payload.js";
import { encodeDocument, encodeQuery, type SparseEncoderOptions } from "./sparse.js";

export const DENSE_VECTOR = "dense";
export const SPARSE_VECTOR = "sparse";
export const METADATA_COLLECTION = "llm_twin_metadata";
const METADATA_POINT_ID = 1;
const SCROLL_PAGE = 1_000;

type Filter = { must: { key: string; match: { value: string } | { any: string[] } }[] };

export async function openQdrantStore(options: QdrantStoreOptions): Promise<VectorStore> {
  const client =
    options.client ??
    new QdrantClient({
      url: options.url,
      ...(options.apiKey === undefined ? {} : { apiKey: options.apiKey }),
      timeout: options.timeoutMs ?? 30_000,
      checkCompatibility: false,
    });
  return new QdrantStore(client, options);
}

class QdrantStore implements VectorStore {
  readonly kind = "qdrant";
  readonly location: string;
  readonly supportsLexical = true;
  readonly #client: QdrantApi;
  readonly #prefix: string;
  readonly #upsertBatchSize: number;
  readonly #hnswEf: number;
  readonly #sparse: SparseEncoderOptions;
  /** Vector size of each existing collection (absent: not known to exist yet). */
  readonly #dimensions = new Map<DataCategory, number>();

  constructor(client: QdrantApi, options: QdrantStoreOptions) {
    this.#client = client;
    this.location = `qdrant:${options.url}`;
    this.#prefix = options.collectionPrefix ?? "";
    this.#upsertBatchSize = options.upsertBatchSize ?? 256;
    this.#hnswEf = options.hnswEf ?? 128;
    this.#sparse = options.sparse ?? {};
  }

  #name(category: DataCategory): string {
    return `${this.#prefix}${collectionName(category)}`;
  }

  get #metadataName(): string {
    return `${this.#prefix}${METADATA_COLLECTION}`;
  }

  #call<T>(what: string, work: () => Promise<T>): Promise<T> {
    return callQdrant(`${what} (${this.location})`, work);
  }

  async readMetadata(): Promise<StoreMetadata | undefined> {
    const name = this.#metadataName;
    const { exists } = await this.#call("collection check", () => this.#client.collectionExists(name));
    if (!exists) return undefined;
    const points = await this.#call("metadata read", () =>
      this.#client.retrieve(name, { ids: [METADATA_POINT_ID], with_payload: true, with_vector: false }),
    );
    const text = points[0]?.payload?.metadata;
    return typeof text === "string" ? parseStoreMetadata(text, name) : undefined;
  }

  async writeMetadata(metadata: StoreMetadata): Promise<void> {
    const name = this.#metadataName;
    const { exists } = await this.#call("collection check", () => this.#client.collectionExists(name));
    if (!exists) {
      await this.#call("metadata collection creation", () =>
        this.#client.createCollection(name, { vectors: { size: 1, distance: "Dot" } }),
      );
    }
    await this.#call("metadata write", () =>
      this.#client.upsert(name, {
        wait: true,
        points: [{ id: METADATA_POINT_ID, vector: [1], payload: { metadata: JSON.stringify(metadata) } }],
      }),
    );
  }

  async ensureCollections(dimensions: number): Promise<void> {
    if (!Number.isInteger(dimensions) || dimensions < 1) {
      throw new AppError("validation_error", `Vector dimensions must be a positive integer, got ${dimensions}.`);
    }
    for (const category of ALL_CATEGORIES) await this.#collectionForWrite(category, dimensions);
  }

  async drop(): Promise<void> {
    for (const name of [...ALL_CATEGORIES.map((category) => this.#name(category)), this.#metadataName]) {
      const { exists } = await this.#call("collection check", () => this.#client.collectionExists(name));
      if (exists) await this.#call("collection deletion", () => this.#client.deleteCollection(name));
    }
    this.#dimensions.clear();
  }

  async upsert(chunks: readonly EmbeddedChunk[], options: UpsertOptions = {}): Promise<void> {
    throwIfAborted(options.signal);
    for (const [category, group] of groupChunksByCategory(chunks)) {
      await this.#collectionForWrite(category, group.dimensions);
      const name = this.#name(category);
      for (let start = 0; start < group.chunks.length; start += this.#upsertBatchSize) {
        throwIfAborted(options.signal);
        const points = group.chunks.slice(start, start + this.#upsertBatchSize).map((chunk) => {
          const sparse = encodeDocument(chunk.text, this.#sparse);
          return {
            id: chunk.id,
            vector: {
              [DENSE_VECTOR]: Array.from(chunk.vector),
              ...(sparse.indices.length === 0 ? {} : { [SPARSE_VECTOR]: sparse }),
            },
            payload: chunkPayload(chunk),
          };
        });
        await this.#call("upsert", () => this.#client.upsert(name, { wait: true, points }));
      }
    }
  }

  async chunkIdsByDocument(category: DataCategory, documentIds: readonly string[]): Promise<Map<string, Set<string>>> {
    const result = new Map<string, Set<string>>();
    if (documentIds.length === 0 || (await this.#existingDimensions(category)) === undefined) return result;
    const name = this.#name(category);
    const filter: Filter = { must: [{ key: "document_id", match: { any: [...new Set(documentIds)] } }] };
    let offset: string | number | undefined;
    do {
      const page = await this.#call("scroll", () =>
        this.#client.scroll(name, {
          filter,
          limit: SCROLL_PAGE,
          with_payload: ["document_id"],
          with_vector: false,
          ...(offset === undefined ? {} : { offset }),
        }),
      );
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
    if (chunkIds.length === 0 || (await this.#existingDimensions(category)) === undefined) return;
    const name = this.#name(category);
    await this.#call("delete", () => this.#client.delete(name, { wait: true, points: [...new Set(chunkIds)] }));
  }

  async deleteDocument(category: DataCategory, documentId: string): Promise<void> {
    if ((await this.#existingDimensions(category)) === undefined) return;
    const name = this.#name(category);
    const filter: Filter = { must: [{ key: "document_id", match: { value: documentId } }] };
    await this.#call("delete", () => this.#client.delete(name, { wait: true, filter }));
  }

  async search(request: SearchRequest): Promise<SearchHit[]> {
    const hybrid = validateSearchRequest(request);
    throwIfAborted(request.signal);
    const dimensions = await this.#existingDimensions(request.category);
    if (dimensions === undefined) return [];
    if (request.mode !== "lexical" && request.vector !== undefined && request.vector.length !== dimensions) {
      throw dimensionMismatch(dimensions, request.vector.length, `search of ${this.#name(request.category)}`);
    }
    const filter: Filter | undefined =
      request.filter?.authorId === undefined
        ? undefined
        : { must: [{ key: "author_id", match: { value: request.filter.authorId } }] };
    const dense = request.vector === undefined ? undefined : Array.from(request.vector);
    const sparse = request.text === undefined ? undefined : encodeQuery(request.text);
    const denseQuery = {
      query: dense,
      using: DENSE_VECTOR,
      params: { hnsw_ef: Math.max(this.#hnswEf, request.limit) },
    };
    const sparseQuery = { query: sparse, using: SPARSE_VECTOR };
    let mode = request.mode;
    // Weight 1 or 0 leaves one list: query that list alone.
    if (mode === "hybrid" && hybrid.denseWeight === 1) mode = "dense";
    if (mode === "hybrid" && hybrid.denseWeight === 0) mode = "lexical";
    if ((mode === "lexical" || mode === "hybrid") && sparse?.indices.length === 0) {
      if (mode === "lexical") return [];
      mode = "dense";
    }
    let body: Record<string, unknown>;
    if (mode === "dense") body = { ...denseQuery };
    else if (mode === "lexical") body = { ...sparseQuery };
    else {
      const weighted = hybrid.denseWeight !== DEFAULT_DENSE_WEIGHT;
      const customK = hybrid.rrfK !== DEFAULT_RRF_K;
      body = {
        prefetch: [
          { ...denseQuery, limit: hybrid.candidates, ...(filter === undefined ? {} : { filter }) },
          { ...sparseQuery, limit: hybrid.candidates, ...(filter === undefined ? {} : { filter }) },
        ],
        // Plain RRF unless weights or k were asked for: the parameterised form needs a recent Qdrant.
        query:
          weighted || customK
            ? {
                rrf: {
                  ...(customK ? { k: hybrid.rrfK } : {}),
                  ...(weighted ? { weights: [hybrid.denseWeight, 1 - hybrid.denseWeight] } : {}),
                },
              }
            : { fusion: "rrf" },
      };
    }
    const name = this.#name(request.category);
    const response = await this.#call("query", () =>
      this.#client.query(name, {
        ...body,
        ...(filter === undefined ? {} : { filter }),
        limit: request.limit,
        with_payload: true,
        with_vector: false,
      }),
    );
    throwIfAborted(request.signal);
    return response.points.map((point) => ({
      chunk: payloadToChunk(String(point.id), point.payload ?? {}, request.category),
      score: point.score,
    }));
  }

  async listAuthors(): Promise<Author[]> {
    const authors = new Map<string, Author>();
    for (const category of ALL_CATEGORIES) {
      if ((await this.#existingDimensions(category)) === undefined) continue;
      const name = this.#name(category);
      const facet = await this.#call("facet", () =>
        this.#client.facet(name, { key: "author_id", limit: 100_000, exact: true }),
      );
      for (const hit of facet.hits) {
        const id = String(hit.value);
        if (authors.has(id)) continue;
        const page = await this.#call("scroll", () =>
          this.#client.scroll(name, {
            filter: { must: [{ key: "author_id", match: { value: id } }] },
            limit: 1,
            with_payload: ["author_full_name"],
            with_vector: false,
          }),
        );
        authors.set(id, { id, fullName: String(page.points[0]?.payload?.author_full_name ?? id) });
      }
    }
    return [...authors.values()].sort((left, right) => left.fullName.localeCompare(right.fullName));
  }

  async count(category?: DataCategory): Promise<number> {
    let total = 0;
    for (const each of category === undefined ? ALL_CATEGORIES : [category]) {
      if ((await this.#existingDimensions(each)) === undefined) continue;
      const name = this.#name(each);
      total += (await this.#call("count", () => this.#client.count(name, { exact: true }))).count;
    }
    return total;
  }

  /** Qdrant builds and maintains its indexes itself. */
  async optimize(): Promise<void> {}

  /** The REST client holds no connection to release. */
  /** The one release verb of every adapter (src/runtime); `close()` stays for existing callers. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async close(): Promise<void> {}

  /** The dense vector size of the category's collection, or undefined when it does not exist. */
  async #existingDimensions(category: DataCategory): Promise<number | undefined> {
    const known = this.#dimensions.get(category);
    if (known !== undefined) return known;
    const name = this.#name(category);
    const { exists } = await this.#call("collection check", () => this.#client.collectionExists(name));
    if (!exists) return undefined;
    let info: Awaited<ReturnType<QdrantApi["getCollection"]>>;
    try {
      info = await this.#client.getCollection(name);
    } catch (error) {
      if (isNotFound(error)) return undefined;
      return this.#call("collection info", () => Promise.reject(error));
    }
    const vectors = info.config.params.vectors as Record<string, { size?: number }> | undefined;
    const size = vectors?.[DENSE_VECTOR]?.size;
    if (typeof size !== "number") {
      throw new AppError("internal_error", `Collection ${name} has no "${DENSE_VECTOR}" vector: not made by llm-twin.`);
    }
    this.#dimensions.set(category, size);
    return size;
  }

  async #collectionForWrite(category: DataCategory, dimensions: number): Promise<void> {
    let existing = await this.#existingDimensions(category);
    if (existing === undefined) {
      const name = this.#name(category);
      await this.#call("collection creation", async () => {
        try {
          await this.#client.createCollection(name, {
            vectors: { [DENSE_VECTOR]: { size: dimensions, distance: "Cosine" } },
            sparse_vectors: { [SPARSE_VECTOR]: { modifier: "idf" } },
          });
        } catch (error) {
          // Another writer may have created it in the meantime: re-read below.
          if ((await this.#client.collectionExists(name)).exists) return;
          throw error;
        }
      });
      for (const field of ["author_id", "document_id"]) {
        await this.#call("payload index creation", () =>
          this.#client.createPayloadIndex(name, { field_name: field, field_schema: "keyword", wait: true }),
        );
      }
      existing = await this.#existingDimensions(category);
    }
    if (existing !== dimensions) {
      throw dimensionMismatch(existing ?? 0, dimensions, `collection ${this.#name(category)}`);
    }
  }
}
