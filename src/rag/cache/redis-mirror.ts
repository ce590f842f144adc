/**
 * A replica's copy of one Redis partition's vectors (./redis-cache.ts): one matrix scanned with the
 * WebAssembly SIMD kernel, kept in step with the partition's change log ("+<id>" / "-<id>" items)
 * from `applied` on, within one log `epoch` (a writer resets the log, with a new epoch, when it
 * grows long; a replica then reads the partition afresh).
 */
import { createDotMatrix, type DotMatrix } from "../../vector-store/lancedb/dot-kernel.js";

const INITIAL_CAPACITY = 64;

/** Float32 rows out of a Buffer, which ioredis may hand out unaligned for a Float32Array view. */
function floats(bytes: Buffer): Float32Array {
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

export class PartitionMirror {
  readonly epoch: string;
  readonly dimensions: number;
  /** Log items applied (the log's length when this mirror last caught up). */
  applied: number;
  readonly #ids: string[] = [];
  readonly #rowOf = new Map<string, number>();
  #matrix: DotMatrix | undefined;

  constructor(epoch: string, applied: number, dimensions: number) {
    this.epoch = epoch;
    this.applied = applied;
    this.dimensions = dimensions;
  }

  get size(): number {
    return this.#ids.length;
  }

  /** Adds (or replaces) `id`'s vector; a vector of another size is ignored. */
  add(id: string, bytes: Buffer): void {
    if (bytes.byteLength !== this.dimensions * 4) return;
    let row = this.#rowOf.get(id);
    if (row === undefined) {
      row = this.#ids.length;
      this.#grow(row + 1);
      this.#ids.push(id);
      this.#rowOf.set(id, row);
    }
    (this.#matrix as DotMatrix).rows.set(floats(bytes), row * this.dimensions);
  }

  remove(id: string): void {
    const row = this.#rowOf.get(id);
    if (row === undefined || this.#matrix === undefined) return;
    const last = this.#ids.length - 1;
    const moved = this.#ids[last] as string;
    if (row !== last) {
      this.#matrix.rows.copyWithin(row * this.dimensions, last * this.dimensions, (last + 1) * this.dimensions);
      this.#ids[row] = moved;
      this.#rowOf.set(moved, row);
    }
    this.#ids.pop();
    this.#rowOf.delete(id);
  }

  /** Ids whose similarity to `query` is at least `minSimilarity`, best first. */
  matches(query: Float32Array, minSimilarity: number): { id: string; score: number }[] {
    if (this.#matrix === undefined || this.#ids.length === 0 || query.length !== this.dimensions) return [];
    const found: { id: string; score: number }[] = [];
    this.#matrix.scores(query, this.#ids.length).forEach((score, row) => {
      if (score >= minSimilarity) found.push({ id: this.#ids[row] as string, score });
    });
    return found.sort((left, right) => right.score - left.score);
  }

  #grow(rows: number): void {
    const capacity = this.#matrix?.capacity ?? 0;
    if (rows <= capacity) return;
    const grown = createDotMatrix(this.dimensions, Math.max(INITIAL_CAPACITY, capacity * 2, rows));
    if (this.#matrix !== undefined) grown.rows.set(this.#matrix.rows);
    this.#matrix = grown;
  }
}
