/**
 * Read → clean → chunk for one document: the step the main thread or a preprocessing worker runs
 * (the same code either way, so chunk ids and texts cannot depend on where it ran).
 */
import type { CleanedDocument, EmbeddedChunk, RawDocument } from "../domain/index.js";
import type { Embedder } from "../embedding/index.js";
import { AppError } from "../errors/index.js";
import { chunkDocument, cleanDocument, type PreprocessingParameters } from "../preprocessing/index.js";
import type { PreparedDocument } from "./plan.js";

/** A document ready for the store, or the reason it is skipped (an invalid_document error). */
export type PreparedOrSkipped =
  | { ok: true; document: PreparedDocument; cleaned: CleanedDocument }
  | { ok: false; reason: string };

export function prepareDocument(
  document: RawDocument,
  sourceHash: string,
  embedder: Pick<Embedder, "countTokens" | "maxInputTokens">,
  parameters: PreprocessingParameters | undefined,
): PreparedOrSkipped {
  try {
    const cleaned = cleanDocument(document, { sourceHash, ...(parameters === undefined ? {} : { parameters }) });
    const chunks = chunkDocument(cleaned, embedder, parameters?.chunking);
    return { ok: true, cleaned, document: { category: document.category, documentId: document.id, chunks } };
  } catch (error) {
    if (error instanceof AppError && error.code === "invalid_document") return { ok: false, reason: error.message };
    throw error;
  }
}

/** Chunks that already carry their vector (embedded in a worker) and those still to embed. */
export function hasVector(chunk: PreparedDocument["chunks"][number]): chunk is EmbeddedChunk {
  return (chunk as Partial<EmbeddedChunk>).vector !== undefined;
}
