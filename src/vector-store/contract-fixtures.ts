/** Fixtures and assertions of the VectorStore contract suite (./contract.ts): chunks on axis vectors, authors, metadata. */
import { createHash } from "node:crypto";
import { expect } from "vitest";
import type { Author, DataCategory, EmbeddedChunk } from "../domain/index.js";
import { AppError } from "../errors/app-error.js";
import type { SearchHit, StoreMetadata } from "./port.js";

export const CONTRACT_DIMENSIONS = 8;

export const PAUL: Author = { id: "author-paul", fullName: "Paul Iusztin" };
export const MAXIME: Author = { id: "author-maxime", fullName: "Maxime Labonne" };

/** A deterministic UUID-shaped id from a name (what Qdrant needs as a point id). */
export function contractId(name: string): string {
  const hex = createHash("sha256").update(name).digest("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** A unit vector pointing mostly along `axis`, tilted towards `towards` by `tilt`. */
export function axisVector(axis: number, tilt = 0, towards = (axis + 1) % CONTRACT_DIMENSIONS): Float32Array {
  const vector = new Float32Array(CONTRACT_DIMENSIONS);
  vector[axis] = 1;
  vector[towards] = (vector[towards] ?? 0) + tilt;
  const norm = Math.hypot(...vector);
  return vector.map((value) => value / norm);
}

type ChunkSpec = {
  name: string;
  document?: string;
  category?: DataCategory;
  author?: Author;
  text?: string;
  vector?: Float32Array;
  index?: number;
};

export function contractChunk(spec: ChunkSpec): EmbeddedChunk {
  const document = spec.document ?? "document-1";
  const text = spec.text ?? `Plain text of ${spec.name} about machine learning pipelines.`;
  return {
    id: contractId(spec.name),
    documentId: contractId(document),
    category: spec.category ?? "articles",
    author: spec.author ?? PAUL,
    platform: "medium",
    title: `Title of ${document}`,
    link: `https://example.com/${document}`,
    index: spec.index ?? 0,
    text,
    tokenCount: text.split(/\s+/).length,
    vector: spec.vector ?? axisVector(0),
  };
}

export function metadataSample(): StoreMetadata {
  return {
    fingerprint: {
      hash: "a".repeat(64),
      preprocessingVersion: "1",
      embedder: { id: "test-embedder", dimensions: CONTRACT_DIMENSIONS, maxInputTokens: 256 },
      parameters: { articles: { minCharacters: 1000, maxCharacters: 2000 } },
    },
    createdAt: "2026-01-01T00:00:00.000Z",
    updatedAt: "2026-01-02T00:00:00.000Z",
  };
}

export const ids = (hits: readonly SearchHit[]) => hits.map((hit) => hit.chunk.id);

export function expectDescending(hits: readonly SearchHit[]): void {
  for (let position = 1; position < hits.length; position++) {
    expect((hits[position - 1] as SearchHit).score).toBeGreaterThanOrEqual((hits[position] as SearchHit).score);
  }
}

export async function expectAppError(promise: Promise<unknown>, code: string): Promise<void> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(AppError);
  expect((error as AppError).code).toBe(code);
}
