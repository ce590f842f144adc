/**
 * The LLM Twin data model, shared by the feature pipeline and the inference pipeline.
 * Plain types only: no behaviour, no infrastructure.
 */

export const DATA_CATEGORIES = ["articles", "posts", "repositories"] as const;
export type DataCategory = (typeof DATA_CATEGORIES)[number];

export function isDataCategory(value: unknown): value is DataCategory {
  return typeof value === "string" && (DATA_CATEGORIES as readonly string[]).includes(value);
}

export type Author = {
  id: string;
  fullName: string;
};

type RawDocumentBase = {
  /** Stable id of the document in its source (the `_id` of the reference export). */
  id: string;
  author: Author;
  /** Where the document was published, e.g. "medium", "linkedin", "github". */
  platform: string;
  link: string;
};

export type RawArticle = RawDocumentBase & {
  category: "articles";
  title: string;
  subtitle: string;
  content: string;
  language?: string;
};

export type RawPost = RawDocumentBase & {
  category: "posts";
  /** Posts usually have no title; the first line stands in for one when absent. */
  title?: string;
  content: string;
  publishedAt?: string;
};

export type RawRepository = RawDocumentBase & {
  category: "repositories";
  /** Repository name, e.g. "owner/name". */
  name: string;
  /** Path inside the repository → file content. */
  files: Record<string, string>;
};

export type RawDocument = RawArticle | RawPost | RawRepository;

/** A document after category-specific cleaning: one text, ready to chunk. */
export type CleanedDocument = {
  id: string;
  category: DataCategory;
  author: Author;
  platform: string;
  title: string;
  link: string;
  content: string;
  /** sha256 of the raw record as read (hex), for lineage and change detection. */
  sourceHash: string;
};

export type Chunk = {
  /** Deterministic: same document + same text (+ position) → same id. UUID-shaped (Qdrant needs UUIDs). */
  id: string;
  documentId: string;
  category: DataCategory;
  author: Author;
  platform: string;
  title: string;
  link: string;
  /** Position of the chunk within its document, from 0. */
  index: number;
  text: string;
  /** Tokens of `text` as counted by the embedder's tokenizer. */
  tokenCount: number;
};

export type EmbeddedChunk = Chunk & {
  /** Unit-length embedding of `text`. */
  vector: Float32Array;
};

/**
 * How a store's contents were made: preprocessing version and parameters, embedder id and
 * dimensions (computed in preprocessing/fingerprint.ts). Stored with the collection at ingestion
 * and compared before ingest and serve: a mismatch refuses to mix or serve.
 */
export type PreprocessingFingerprint = {
  /** sha256 over the canonical JSON of the fields below. */
  hash: string;
  preprocessingVersion: string;
  embedder: { id: string; dimensions: number; maxInputTokens: number };
  /** Cleaning and chunking parameters per category. */
  parameters: Record<string, unknown>;
};
