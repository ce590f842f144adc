/**
 * A replica's copy of one Redis partition's vectors (./redis-cache.ts): one matrix scanned with the
 * WebAssembly SIMD kernel (./vector-rows.ts, the memory cache's storage too), kept in step with the partition's change log ("+<id>" / "-<id>" items)
 * from `applied` on, within one log `epoch` (a writer resets the log, with a new epoch, when it
 * grows long; a replica then reads the partition afresh).
 */
import { createVectorRows, type VectorRows } from "./vector-rows.js";

/** Float32 rows out of a Buffer, which ioredis may hand out unaligned for a Float32Array view. */
function floats(bytes: Buffer): Float32Array {
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

export class PartitionMirror {
  readonly epoch: string;
  /** Log items applied (the log's length when this mirror last caught up). */
  applied: number;
  /** One row per id. */
  readonly #rows: VectorRows<string>;
  readonly #rowOf = new Map<string, number>();

  constructor(epoch: string, applied: number, dimensions: number) {
    this.epoch = epoch;
    this.applied = applied;
    this.#rows = createVectorRows(dimensions);
  }

  get dimensions(): number {
    return this.#rows.dimensions;
  }

  get size(): number {
    return this.#rows.size;
  }

  /** Adds (or replaces) `id`'s vector; a vector of another size is ignored. */
  add(id: string, bytes: Buffer): void {
    if (bytes.byteLength !== this.dimensions * 4) return;
    const row = this.#rowOf.get(id);
    if (row === undefined) this.#rowOf.set(id, this.#rows.push(id, floats(bytes)));
    else this.#rows.write(row, floats(bytes));
  }

  remove(id: string): void {
    const row = this.#rowOf.get(id);
    if (row === undefined) return;
    this.#rowOf.delete(id);
    const moved = this.#rows.remove(row);
    if (moved !== undefined) this.#rowOf.set(moved, row);
  }

  /** Ids whose similarity to `query` is at least `minSimilarity`, best first. */
  matches(query: Float32Array, minSimilarity: number): { id: string; score: number }[] {
    if (query.length !== this.dimensions) return [];
    const found: { id: string; score: number }[] = [];
    this.#rows.scores(query).forEach((score, row) => {
      if (score >= minSimilarity) found.push({ id: this.#rows.item(row), score });
    });
    return found.sort((left, right) => right.score - left.score);
  }
}
