/**
 * The AnswerCache port: answers kept by partition (author + store version + request shape, see
 * ./key.ts) and found again by the cosine similarity of the standalone question's embedding.
 * Adapters: in memory (./memory-cache.ts, the default) and Redis (./redis-cache.ts). Both pass
 * the shared contract suite (src/rag/testing/answer-cache-contract.ts).
 */

import type { Author } from "../../domain/index.js";
import type { FinishReason, Usage } from "../../llm/index.js";
import type { ServedModelRef } from "../adapter-routing.js";
import type { RagSource } from "../types.js";

/** What a hit gives back: enough to replay the answer as /rag and the OpenAI route send it. */
export type CachedAnswer = {
  answer: string;
  sources: RagSource[];
  author: Author | null;
  queries: string[];
  finishReason: FinishReason;
  usage: Usage;
  historyTurnsUsed: number;
  /** The model and adapter versions that wrote it (absent in entries stored before they were recorded). */
  model?: ServedModelRef;
  /** The standalone question the answer was generated for (shown in the trace of a hit). */
  question: string;
  /** Epoch milliseconds when it was stored. */
  createdAt: number;
};

export type CacheHit = { entry: CachedAnswer; similarity: number };

export type AnswerCache = {
  readonly kind: "memory" | "redis";
  /**
   * The most similar entry of `partition` with cosine similarity ≥ `minSimilarity`, or undefined.
   * `vector` must be a unit vector (the caller normalizes it).
   */
  lookup(partition: string, vector: Float32Array, minSimilarity: number): Promise<CacheHit | undefined>;
  /** Stores an answer under `partition` (`vector`: unit vector of its standalone question). */
  store(partition: string, vector: Float32Array, entry: CachedAnswer): Promise<void>;
  /** Entries currently held (expired ones may still count until swept). */
  size(): Promise<number>;
  [Symbol.asyncDispose](): Promise<void>;
};

/** A copy of `vector` scaled to unit length (zero stays zero). */
export function unitVector(vector: Float32Array): Float32Array {
  let sum = 0;
  for (const value of vector) sum += value * value;
  const norm = Math.sqrt(sum);
  const unit = new Float32Array(vector.length);
  if (norm === 0) return unit;
  for (let index = 0; index < vector.length; index++) unit[index] = (vector[index] as number) / norm;
  return unit;
}
