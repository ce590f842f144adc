/**
 * The VectorStore port. One logical collection per data category (Qdrant: embedded_articles,
 * embedded_posts, embedded_repositories; LanceDB: one table each). Adapters: LanceDB (embedded,
 * default) and Qdrant.
 */
import type { Author, Chunk, DataCategory, EmbeddedChunk, PreprocessingFingerprint } from "../domain/index.js";

export type { PreprocessingFingerprint } from "../domain/index.js";

import type { HybridFusion } from "./fusion.js";

/** What the store remembers about how its contents were made (checked before ingest and serve). */
export type StoreMetadata = {
  /** Fingerprint of the preprocessing + embedder (see preprocessing/fingerprint). */
  fingerprint: PreprocessingFingerprint;
  createdAt: string;
  updatedAt: string;
  /** Per input (absolute path), the documents it put in the store: what `ingest --prune` compares with. */
  sources?: Record<string, SourceDocuments>;
};

/** Document ids per category (sorted). */
export type SourceDocuments = Partial<Record<DataCategory, string[]>>;

export type SearchMode = "dense" | "lexical" | "hybrid";

export type SearchFilter = {
  authorId?: string;
};

export type HybridOptions = {
  /**
   * How the dense and lexical candidates are fused (see fusion.ts). Default "agreement": score
   * fusion where the dense weight is `denseWeight` times the two lists' agreement; "rrf":
   * weighted reciprocal-rank fusion with `denseWeight` and `rrfK`.
   */
  fusion?: HybridFusion;
  /** Weight of the dense list (lexical gets 1 - denseWeight); with "agreement", its maximum. Default 0.5. */
  denseWeight?: number;
  /** The RRF constant k ("rrf" only). Default 60. */
  rrfK?: number;
  /** How many candidates each side contributes before fusion. Default max(limit * 4, 40). */
  candidates?: number;
};

export type SearchRequest = {
  category: DataCategory;
  mode: SearchMode;
  /** Required for dense and hybrid. */
  vector?: Float32Array;
  /** Required for lexical and hybrid. */
  text?: string;
  filter?: SearchFilter;
  limit: number;
  hybrid?: HybridOptions;
  signal?: AbortSignal;
};

export type SearchHit = {
  chunk: Chunk;
  /** Higher is better. Dense: cosine similarity; lexical: BM25; hybrid: the fused score. */
  score: number;
};

export type UpsertOptions = {
  signal?: AbortSignal;
  /**
   * The caller guarantees that none of these chunk ids is stored yet (it has just listed the
   * documents' chunk ids, and no other writer touches them): an adapter may then append instead of
   * merging by id, which is faster (LanceDB: `add` instead of `mergeInsert`). Default false.
   * Wrong use stores duplicates, so leave it unset when in doubt.
   */
  knownNew?: boolean;
};

/**
 * A rebuild of the whole store beside the live one (`ingest --recreate`): `store` writes to new
 * collections that readers do not see; `publish()` switches readers to them in one atomic step
 * (LanceDB: the pointer in the metadata file; Qdrant: collection aliases) and drops the previous
 * ones; `discard()` drops the new ones and leaves the live store as it was.
 */
export type StoreRebuild = {
  /** The new, empty store: write chunks and metadata here. Its drop() and startRebuild() are refused. */
  readonly store: VectorStore;
  /** Makes the rebuilt collections and metadata the live ones, then drops the previous generation. */
  publish(): Promise<void>;
  /** Drops the rebuilt collections; safe to call after a failure or twice. */
  discard(): Promise<void>;
};

export type VectorStore = {
  readonly kind: string;
  /** Human-readable location, e.g. "lancedb:./.llm-twin/store" (for logs and errors). */
  readonly location: string;
  readonly supportsLexical: boolean;
  readMetadata(): Promise<StoreMetadata | undefined>;
  writeMetadata(metadata: StoreMetadata): Promise<void>;
  /** Prepares collections for vectors of `dimensions`; idempotent. */
  ensureCollections(dimensions: number): Promise<void>;
  /** Removes every collection and the metadata (readers see an empty store: prefer startRebuild). */
  drop(): Promise<void>;
  /** Starts a rebuild beside the live collections; readers keep the current ones until publish(). */
  startRebuild(): Promise<StoreRebuild>;
  /**
   * Opens every existing collection and reads from it (readiness); throws an AppError when one
   * cannot answer. Cached handles that fail are dropped, so the next call reopens them.
   */
  check(options?: { signal?: AbortSignal }): Promise<void>;
  /** Inserts or replaces chunks by id. */
  upsert(chunks: readonly EmbeddedChunk[], options?: UpsertOptions): Promise<void>;
  /** chunk ids stored for each of the given documents (documents without chunks are absent). */
  chunkIdsByDocument(category: DataCategory, documentIds: readonly string[]): Promise<Map<string, Set<string>>>;
  deleteChunks(category: DataCategory, chunkIds: readonly string[]): Promise<void>;
  deleteDocument(category: DataCategory, documentId: string): Promise<void>;
  search(request: SearchRequest): Promise<SearchHit[]>;
  /** Distinct authors with at least one chunk. */
  listAuthors(): Promise<Author[]>;
  count(category?: DataCategory): Promise<number>;
  /**
   * A tag of the stored contents that changes on every write (upsert, delete, rebuild), for caches
   * of answers derived from them (the RAG answer cache). Optional: without it, readers fall back
   * to the metadata's `updatedAt`, which every ingestion rewrites.
   */
  dataVersion?(): Promise<string>;
  /** Builds or refreshes ANN and full-text indexes where the adapter needs an explicit step. */
  optimize(): Promise<void>;
  /** Releases the store's handles (the one release verb of every adapter, see src/runtime). */
  [Symbol.asyncDispose](): Promise<void>;
};
