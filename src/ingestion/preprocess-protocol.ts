/**
 * Messages between the ingestion pipeline and its preprocessing worker thread. Chunks travel in a
 * compact column form (the fields shared by a document's chunks once per document) and all vectors
 * of a batch as one transferred Float32Array, so little is copied and few objects are made.
 */
import type { Author, CleanedDocument, DataCategory, EmbeddedChunk, RawDocument } from "../domain/index.js";
import type { ErrorCode } from "../errors/index.js";
import type { PreprocessingParameters } from "../preprocessing/index.js";
import type { PreparedDocument } from "./plan.js";

export type PreprocessWorkerData = {
  /** Options that rebuild the main thread's static embedder (StaticEmbedder.recipe). */
  recipe: {
    cacheDir: string;
    maxInputTokens: number;
    maxBatchSize: number;
    source: { jsonPath: string; version: string };
  };
  parameters?: PreprocessingParameters;
  /** Send cleaned documents back (for dataset artifacts). */
  keepCleaned: boolean;
};

export type PreprocessRequest =
  | { type: "prepare"; id: number; records: { document: RawDocument; sourceHash: string }[] }
  | { type: "embed"; id: number; texts: string[] };

export type PackedDocument = {
  documentId: string;
  category: DataCategory;
  author: Author;
  platform: string;
  title: string;
  link: string;
  ids: string[];
  texts: string[];
  indexes: number[];
  tokenCounts: number[];
};

export type PackedResult =
  | { ok: true; packed: PackedDocument; cleaned?: CleanedDocument }
  | { ok: false; reason: string };

export type PreprocessReply =
  | { type: "ready"; embedderId: string; dimensions: number; maxInputTokens: number; cpuMs: number | null }
  | { type: "prepared"; id: number; results: PackedResult[]; vectors: Float32Array }
  | { type: "embedded"; id: number; vectors: Float32Array }
  | { type: "failed"; id: number | null; code: ErrorCode | null; message: string }
  | { type: "closed"; cpuMs: number | null };

export function packDocument(document: PreparedDocument): PackedDocument {
  const first = document.chunks[0];
  return {
    documentId: document.documentId,
    category: document.category,
    author: first?.author ?? { id: "", fullName: "" },
    platform: first?.platform ?? "",
    title: first?.title ?? "",
    link: first?.link ?? "",
    ids: document.chunks.map((chunk) => chunk.id),
    texts: document.chunks.map((chunk) => chunk.text),
    indexes: document.chunks.map((chunk) => chunk.index),
    tokenCounts: document.chunks.map((chunk) => chunk.tokenCount),
  };
}

/** The document's chunks with their vectors (views into the batch's vector buffer from `offset`). */
export function unpackDocument(
  packed: PackedDocument,
  vectors: Float32Array,
  offset: number,
  dimensions: number,
): PreparedDocument {
  const chunks: EmbeddedChunk[] = new Array(packed.ids.length);
  for (let position = 0; position < chunks.length; position++) {
    const start = offset + position * dimensions;
    chunks[position] = {
      id: packed.ids[position] as string,
      documentId: packed.documentId,
      category: packed.category,
      author: packed.author,
      platform: packed.platform,
      title: packed.title,
      link: packed.link,
      index: packed.indexes[position] as number,
      text: packed.texts[position] as string,
      tokenCount: packed.tokenCounts[position] as number,
      vector: vectors.subarray(start, start + dimensions),
    };
  }
  return { category: packed.category, documentId: packed.documentId, chunks };
}
