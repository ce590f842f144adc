/**
 * The vector storage both answer-cache adapters share: rows of unit vectors, one item each, in one
 * contiguous matrix scanned with the WebAssembly SIMD dot-product kernel
 * (../../vector-store/lancedb/dot-kernel.ts). Used for the memory cache's partitions
 * (./memory-cache.ts) and a Redis replica's mirror of a partition (./redis-mirror.ts). The matrix
 * grows by doubling (64 rows first, at most `maxRows`); removing a row moves the last one into its place.
 */
import { createDotMatrix, type DotMatrix } from "../../vector-store/lancedb/dot-kernel.js";

const INITIAL_CAPACITY = 64;

export type VectorRowsOptions = {
  /** Rows never held at once beyond this (the matrix does not grow past it). Default: unbounded. */
  maxRows?: number;
  /** "javascript" skips WebAssembly (to compare the two). */
  kernel?: "wasm-simd" | "javascript";
};

export type VectorRows<T> = {
  readonly dimensions: number;
  readonly size: number;
  /** The item of a row in [0, size). */
  item(row: number): T;
  /** Appends a row (a vector of `dimensions` floats); returns its index. */
  push(item: T, vector: Float32Array): number;
  /** Overwrites the vector of a row in [0, size). */
  write(row: number, vector: Float32Array): void;
  /** Removes a row; the last row moves into its place: returns that row's item (undefined when the last was removed). */
  remove(row: number): T | undefined;
  /** Dot products of `query` with rows [0, size), as a view reused by the next call. */
  scores(query: Float32Array): Float32Array;
};

export function createVectorRows<T>(dimensions: number, options: VectorRowsOptions = {}): VectorRows<T> {
  const maxRows = options.maxRows ?? Number.POSITIVE_INFINITY;
  const items: T[] = [];
  let matrix: DotMatrix | undefined;

  const grow = (): DotMatrix => {
    const capacity = matrix?.capacity ?? 0;
    if (matrix !== undefined && items.length < capacity) return matrix;
    const grown = createDotMatrix(
      dimensions,
      Math.min(Math.max(INITIAL_CAPACITY, capacity * 2), maxRows),
      options.kernel,
    );
    if (matrix !== undefined) grown.rows.set(matrix.rows);
    matrix = grown;
    return grown;
  };

  return {
    dimensions,
    get size() {
      return items.length;
    },
    item: (row) => items[row] as T,
    push(item, vector) {
      const row = items.length;
      grow().rows.set(vector, row * dimensions);
      items.push(item);
      return row;
    },
    write(row, vector) {
      (matrix as DotMatrix).rows.set(vector, row * dimensions);
    },
    remove(row) {
      const last = items.length - 1;
      const moved = items[last] as T;
      items.pop();
      if (row === last) return undefined;
      (matrix as DotMatrix).rows.copyWithin(row * dimensions, last * dimensions, (last + 1) * dimensions);
      items[row] = moved;
      return moved;
    },
    scores: (query) => (matrix === undefined ? new Float32Array(0) : matrix.scores(query, items.length)),
  };
}
