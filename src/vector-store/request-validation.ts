/** Checks shared by every adapter, so that both reject the same inputs with the same codes. */
import type { DataCategory, EmbeddedChunk } from "../domain/index.js";
import { isDataCategory } from "../domain/index.js";
import { AppError } from "../errors/app-error.js";
import { DEFAULT_HYBRID_FUSION, DEFAULT_RRF_K, HYBRID_FUSIONS, type HybridFusion } from "./fusion.js";
import type { SearchRequest } from "./port.js";

export const DEFAULT_DENSE_WEIGHT = 0.5;

export type ResolvedHybrid = { fusion: HybridFusion; denseWeight: number; rrfK: number; candidates: number };

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) {
    throw new AppError("aborted", "The vector store operation was aborted.", { cause: signal.reason });
  }
}

export function dimensionMismatch(expected: number, actual: number, where: string): AppError {
  return new AppError(
    "dimension_mismatch",
    `Vector dimension mismatch in ${where}: the store holds ${expected}-dimensional vectors, got ${actual}.`,
    { details: { expected, actual } },
  );
}

/** Validates a search request; returns the resolved hybrid options. */
export function validateSearchRequest(request: SearchRequest): ResolvedHybrid {
  if (!isDataCategory(request.category)) {
    throw new AppError("validation_error", `Unknown category "${String(request.category)}".`);
  }
  if (!Number.isInteger(request.limit) || request.limit < 1) {
    throw new AppError("validation_error", `Search limit must be a positive integer, got ${request.limit}.`);
  }
  const needsVector = request.mode === "dense" || request.mode === "hybrid";
  const needsText = request.mode === "lexical" || request.mode === "hybrid";
  if (!needsVector && !needsText) {
    throw new AppError("validation_error", `Unknown search mode "${String(request.mode)}".`);
  }
  if (needsVector && request.vector === undefined) {
    throw new AppError("validation_error", `Search mode "${request.mode}" needs a query vector.`);
  }
  if (needsText && (request.text === undefined || request.text.trim().length === 0)) {
    throw new AppError("validation_error", `Search mode "${request.mode}" needs a query text.`);
  }
  const fusion = request.hybrid?.fusion ?? DEFAULT_HYBRID_FUSION;
  if (!HYBRID_FUSIONS.includes(fusion)) {
    throw new AppError(
      "validation_error",
      `hybrid.fusion must be one of ${HYBRID_FUSIONS.join(", ")}, got ${JSON.stringify(fusion)}.`,
    );
  }
  const denseWeight = request.hybrid?.denseWeight ?? DEFAULT_DENSE_WEIGHT;
  if (!(denseWeight >= 0 && denseWeight <= 1)) {
    throw new AppError("validation_error", `hybrid.denseWeight must be within [0, 1], got ${denseWeight}.`);
  }
  const rrfK = request.hybrid?.rrfK ?? DEFAULT_RRF_K;
  if (!(Number.isFinite(rrfK) && rrfK >= 0)) {
    throw new AppError("validation_error", `hybrid.rrfK must be a number >= 0, got ${rrfK}.`);
  }
  const candidates = request.hybrid?.candidates ?? Math.max(request.limit * 4, 40);
  if (!Number.isInteger(candidates) || candidates < 1) {
    throw new AppError("validation_error", `hybrid.candidates must be a positive integer, got ${candidates}.`);
  }
  return { fusion, denseWeight, rrfK, candidates: Math.max(candidates, request.limit) };
}

/** Groups chunks by category, last occurrence of an id winning; checks every vector's dimension. */
export function groupChunksByCategory(
  chunks: readonly EmbeddedChunk[],
): Map<DataCategory, { dimensions: number; chunks: EmbeddedChunk[] }> {
  const byCategory = new Map<DataCategory, Map<string, EmbeddedChunk>>();
  let dimensions: number | undefined;
  for (const chunk of chunks) {
    if (!isDataCategory(chunk.category)) {
      throw new AppError("invalid_document", `Chunk ${chunk.id} has an unknown category "${String(chunk.category)}".`);
    }
    if (!(chunk.vector instanceof Float32Array) || chunk.vector.length === 0) {
      throw new AppError("invalid_document", `Chunk ${chunk.id} has no vector.`);
    }
    dimensions ??= chunk.vector.length;
    if (chunk.vector.length !== dimensions) throw dimensionMismatch(dimensions, chunk.vector.length, "upsert");
    let group = byCategory.get(chunk.category);
    if (group === undefined) {
      group = new Map();
      byCategory.set(chunk.category, group);
    }
    group.delete(chunk.id);
    group.set(chunk.id, chunk);
  }
  const result = new Map<DataCategory, { dimensions: number; chunks: EmbeddedChunk[] }>();
  for (const [category, group] of byCategory) {
    result.set(category, { dimensions: dimensions ?? 0, chunks: [...group.values()] });
  }
  return result;
}
