/**
 * Seeded synthetic embeddings for store benchmarks: unit vectors drawn around a set of random
 * topic centres (a mixture of Gaussians), so that neighbourhoods have structure the way real
 * sentence embeddings do (uniformly random vectors in 384-d are all nearly orthogonal).
 */

export function seededRandom(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let mixed = Math.imul(state ^ (state >>> 15), 1 | state);
    mixed = (mixed + Math.imul(mixed ^ (mixed >>> 7), 61 | mixed)) ^ mixed;
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal draws (Box–Muller). */
export function gaussian(random: () => number): () => number {
  return () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

export type ClusteredVectorOptions = {
  count: number;
  dimensions: number;
  /** Topic centres. */
  clusters: number;
  /** Spread around a centre, relative to the centre's length (1 = as far as the centre itself). */
  spread: number;
  seed: number;
};

function normalize(vector: Float32Array): Float32Array {
  let norm = 0;
  for (const value of vector) norm += value * value;
  norm = Math.sqrt(norm) || 1;
  for (let axis = 0; axis < vector.length; axis++) vector[axis] = (vector[axis] ?? 0) / norm;
  return vector;
}

/** `count` unit vectors around `clusters` random centres. */
export function clusteredVectors(options: ClusteredVectorOptions): Float32Array[] {
  const random = seededRandom(options.seed);
  const normal = gaussian(random);
  const { dimensions } = options;
  const centres = Array.from({ length: options.clusters }, () =>
    normalize(Float32Array.from({ length: dimensions }, normal)),
  );
  const noise = options.spread / Math.sqrt(dimensions);
  return Array.from({ length: options.count }, () => {
    const centre = centres[Math.floor(random() * centres.length)] as Float32Array;
    const vector = new Float32Array(dimensions);
    for (let axis = 0; axis < dimensions; axis++) vector[axis] = (centre[axis] ?? 0) + noise * normal();
    return normalize(vector);
  });
}

/** Indices of the `k` rows of `candidates` with the highest dot product with `query`, best first. */
export function exactTopK(
  query: Float32Array,
  candidates: readonly Float32Array[],
  rows: readonly number[],
  k: number,
) {
  const scored = rows.map((row) => {
    const vector = candidates[row] as Float32Array;
    let dot = 0;
    for (let axis = 0; axis < query.length; axis++) dot += (query[axis] ?? 0) * (vector[axis] ?? 0);
    return { row, dot };
  });
  scored.sort((left, right) => right.dot - left.dot);
  return scored.slice(0, k).map(({ row }) => row);
}
