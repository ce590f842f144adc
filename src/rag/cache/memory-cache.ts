/**
 * The in-memory AnswerCache: per partition one contiguous matrix of unit vectors (./vector-rows.ts,
 * the WebAssembly SIMD dot-product kernel of the LanceDB memory index), so a lookup is one scan of
 * dot products. Bounded by `maxEntries` over all partitions (the least
 * recently used entry goes first) and by `ttlMs` (expired entries are swept before each call).
 * A partition left empty is dropped with its matrix.
 */
import type { AnswerCache, CachedAnswer, CacheHit } from "./port.js";
import { createVectorRows, type VectorRows } from "./vector-rows.js";

export type MemoryAnswerCacheOptions = {
  maxEntries: number;
  ttlMs: number;
  /** Clock (epoch ms), for tests. */
  now?: () => number;
  /** "javascript" skips WebAssembly (to compare the two). */
  kernel?: "wasm-simd" | "javascript";
};

type Entry = { id: number; partition: Partition; slot: number; value: CachedAnswer; expiresAt: number };

type Partition = { key: string; rows: VectorRows<Entry> };

export function createMemoryAnswerCache(options: MemoryAnswerCacheOptions): AnswerCache {
  if (!Number.isInteger(options.maxEntries) || options.maxEntries < 1) {
    throw new RangeError(`maxEntries must be a positive integer, got ${options.maxEntries}`);
  }
  const now = options.now ?? Date.now;
  const partitions = new Map<string, Partition>();
  /** Insertion order = recency order: a hit moves its entry to the end; eviction takes the first. */
  const recency = new Map<number, Entry>();
  /** Insertion order = expiry order (one TTL for all). */
  const byExpiry = new Map<number, Entry>();
  let nextId = 1;

  const remove = (entry: Entry): void => {
    recency.delete(entry.id);
    byExpiry.delete(entry.id);
    const { partition, slot } = entry;
    const moved = partition.rows.remove(slot);
    if (moved !== undefined) moved.slot = slot;
    if (partition.rows.size === 0) partitions.delete(partition.key);
  };

  const sweep = (): void => {
    const time = now();
    for (const entry of byExpiry.values()) {
      if (entry.expiresAt > time) break;
      remove(entry);
    }
  };

  const partitionFor = (key: string, dimensions: number): Partition => {
    let partition = partitions.get(key);
    if (partition !== undefined && partition.rows.dimensions !== dimensions) {
      // Another embedder under the same key (should not happen: its id is part of the key): start over.
      const { rows } = partition;
      for (const entry of Array.from({ length: rows.size }, (_, row) => rows.item(row))) remove(entry);
      partition = undefined;
    }
    if (partition === undefined) {
      const rows = createVectorRows<Entry>(dimensions, {
        maxRows: options.maxEntries,
        ...(options.kernel === undefined ? {} : { kernel: options.kernel }),
      });
      partition = { key, rows };
      partitions.set(key, partition);
    }
    return partition;
  };

  const cache: AnswerCache = {
    kind: "memory",
    async lookup(key, vector, minSimilarity) {
      sweep();
      const partition = partitions.get(key);
      if (partition === undefined || partition.rows.dimensions !== vector.length) return undefined;
      const scores = partition.rows.scores(vector);
      let best = -1;
      let bestScore = Number.NEGATIVE_INFINITY;
      for (let index = 0; index < scores.length; index++) {
        const score = scores[index] as number;
        if (score > bestScore) {
          bestScore = score;
          best = index;
        }
      }
      if (best < 0 || bestScore < minSimilarity) return undefined;
      const entry = partition.rows.item(best);
      recency.delete(entry.id);
      recency.set(entry.id, entry);
      const hit: CacheHit = { entry: entry.value, similarity: Math.min(1, bestScore) };
      return hit;
    },
    async store(key, vector, value) {
      sweep();
      while (recency.size >= options.maxEntries) {
        const oldest = recency.values().next().value as Entry;
        remove(oldest);
      }
      const partition = partitionFor(key, vector.length);
      const entry: Entry = {
        id: nextId++,
        partition,
        slot: partition.rows.size,
        value,
        expiresAt: now() + options.ttlMs,
      };
      partition.rows.push(entry, vector);
      recency.set(entry.id, entry);
      byExpiry.set(entry.id, entry);
    },
    async size() {
      sweep();
      return recency.size;
    },
    async [Symbol.asyncDispose]() {
      partitions.clear();
      recency.clear();
      byExpiry.clear();
    },
  };
  return cache;
}
