/**
 * The static embedder: the zero-download default. A text's vector is the average of the unit word
 * vectors of its content words (stopwords and punctuation removed), normalised to unit length.
 * Words missing from the vocabulary are tried without a possessive or plural "s"; a text with no
 * known content word falls back to deterministic hashed vectors of its words, so every text —
 * even an empty one — gets a unit vector and the same text always gets the same vector.
 */

import { AppError } from "../../errors/index.js";
import type { Embedder, EmbedOptions } from "../port.js";
import { ENGLISH_STOPWORDS } from "./stopwords.js";
import { countTokens, createTokenCursor, nextToken, normaliseForTokens, tokenize } from "./tokenizer.js";
import type { WordVectorSource } from "./word-vector-cache.js";
import {
  defaultCacheDir,
  type LoadedWordVectors,
  loadWordVectors,
  locateWinkPackage,
  WINK_PACKAGE,
} from "./word-vector-cache.js";
import type { WordVectors } from "./word-vector-format.js";

export const DEFAULT_STATIC_MAX_INPUT_TOKENS = 512;
export const DEFAULT_STATIC_MAX_BATCH_SIZE = 256;
const HASHED_VECTOR_CACHE_LIMIT = 50_000;

export type StaticEmbedderOptions = {
  /** Where the binary word vector cache lives. Default: LLM_TWIN_CACHE_DIR or ~/.cache/llm-twin. */
  cacheDir?: string;
  /** Longest accepted input in tokens. Default 512. */
  maxInputTokens?: number;
  /** Texts per `embed` call. Default 256. */
  maxBatchSize?: number;
  /** Override where the package's JSON is (tests). */
  source?: WordVectorSource;
};

export type StaticEmbedder = Embedder & {
  /** How the word vectors were obtained: converted from JSON this time, or read from the cache. */
  readonly loading: { cachePath: string; converted: boolean; loadMs: number };
  /**
   * Plain (structured-clonable) options that rebuild this very embedder elsewhere, e.g. in a
   * worker thread: `createStaticEmbedder(recipe)` gives the same id and bit-identical vectors.
   */
  readonly recipe?: Required<Pick<StaticEmbedderOptions, "cacheDir" | "maxInputTokens" | "maxBatchSize" | "source">>;
};

export async function createStaticEmbedder(options: StaticEmbedderOptions = {}): Promise<StaticEmbedder> {
  const maxInputTokens = options.maxInputTokens ?? DEFAULT_STATIC_MAX_INPUT_TOKENS;
  const maxBatchSize = options.maxBatchSize ?? DEFAULT_STATIC_MAX_BATCH_SIZE;
  for (const [name, value] of [
    ["maxInputTokens", maxInputTokens],
    ["maxBatchSize", maxBatchSize],
  ] as const) {
    if (!Number.isInteger(value) || value <= 0) {
      throw new AppError("configuration_error", `static embedder: ${name} must be a positive integer (got ${value})`);
    }
  }
  const source = options.source ?? locateWinkPackage();
  const cacheDir = options.cacheDir ?? defaultCacheDir();
  const loaded = await loadWordVectors({ cacheDir, source });
  const embedder = buildStaticEmbedder(loaded, {
    id: `static:${WINK_PACKAGE}@${source.version}`,
    maxInputTokens,
    maxBatchSize,
  });
  return { ...embedder, recipe: { cacheDir, maxInputTokens, maxBatchSize, source: { ...source } } };
}

export function buildStaticEmbedder(
  loaded: LoadedWordVectors,
  settings: { id: string; maxInputTokens: number; maxBatchSize: number },
): StaticEmbedder {
  const { vectors } = loaded;
  const { dimensions } = vectors;
  const hashedVectors = new Map<string, Float32Array>();
  const stopwordRows = new Uint8Array(vectors.count);
  for (const stopword of ENGLISH_STOPWORDS) {
    const row = vectors.lookup(stopword);
    if (row !== -1) stopwordRows[row] = 1;
  }
  let disposed = false;

  function hashedVector(word: string): Float32Array {
    let vector = hashedVectors.get(word);
    if (vector === undefined) {
      vector = pseudoRandomUnitVector(word, dimensions);
      if (hashedVectors.size >= HASHED_VECTOR_CACHE_LIMIT) hashedVectors.clear();
      hashedVectors.set(word, vector);
    }
    return vector;
  }

  const { components, scales } = vectors;
  const cursor = createTokenCursor();
  const sum = new Float64Array(dimensions);

  // The hot path: a token loop without callbacks, the vocabulary lookup without allocating a
  // string for known words, and the row added in place (same order of additions as ever, so
  // vectors stay bit-identical).
  function embedOne(text: string): Float32Array {
    const lowered = normaliseForTokens(text);
    sum.fill(0);
    let tokenCount = 0;
    let known = 0;
    let unknownWords: string[] | undefined;
    for (let position = 0; nextToken(lowered, position, cursor); position = cursor.end) {
      tokenCount++;
      if (!cursor.isWord) continue;
      const start = cursor.start;
      const end = cursor.end;
      let row = vectors.lookupRange(lowered, start, end);
      if (row !== -1) {
        if (stopwordRows[row] === 1) continue;
      } else {
        let token = lowered.slice(start, end);
        if (token.includes("’")) token = token.replaceAll("’", "'");
        if (ENGLISH_STOPWORDS.has(token)) continue;
        row = lookupVariant(vectors, token);
        if (row === -1) {
          unknownWords ??= [];
          unknownWords.push(token);
          continue;
        }
      }
      const scale = scales[row] as number;
      const offset = row * dimensions;
      for (let d = 0; d < dimensions; d++) sum[d] = (sum[d] as number) + (components[offset + d] as number) * scale;
      known++;
    }
    if (tokenCount > settings.maxInputTokens) {
      throw new AppError(
        "input_too_long",
        `text has ${tokenCount} tokens; the static embedder accepts at most ${settings.maxInputTokens}`,
        { details: { tokens: tokenCount, maxInputTokens: settings.maxInputTokens } },
      );
    }
    if (known === 0) {
      // No known content word: hashed vectors of the unknown words, else of whatever tokens there are.
      const fallback = unknownWords ?? tokenize(text);
      if (fallback.length === 0) fallback.push("");
      for (const word of fallback) {
        const vector = hashedVector(word);
        for (let d = 0; d < dimensions; d++) sum[d] = (sum[d] as number) + (vector[d] as number);
      }
    }
    return normalise(sum, () => hashedVector(text));
  }

  return {
    id: settings.id,
    dimensions,
    maxInputTokens: settings.maxInputTokens,
    maxBatchSize: settings.maxBatchSize,
    loading: { cachePath: loaded.cachePath, converted: loaded.converted, loadMs: loaded.loadMs },
    countTokens,
    async embed(texts: readonly string[], embedOptions?: EmbedOptions): Promise<Float32Array[]> {
      if (disposed) throw new AppError("internal_error", "the static embedder was disposed");
      const output: Float32Array[] = new Array(texts.length);
      for (let start = 0; start < texts.length; start += settings.maxBatchSize) {
        if (embedOptions?.signal?.aborted)
          throw new AppError("aborted", "embedding was aborted", { cause: embedOptions.signal.reason });
        const end = Math.min(texts.length, start + settings.maxBatchSize);
        for (let position = start; position < end; position++) output[position] = embedOne(texts[position] as string);
      }
      return output;
    },
    async [Symbol.asyncDispose](): Promise<void> {
      disposed = true;
      hashedVectors.clear();
    },
  };
}

/** A word missing from the vocabulary, tried without a possessive or plural "s". */
function lookupVariant(vectors: WordVectors, word: string): number {
  if (word.endsWith("'s")) return vectors.lookup(word.slice(0, -2));
  if (word.length > 3 && word.endsWith("s")) return vectors.lookup(word.slice(0, -1));
  return -1;
}

function normalise(sum: Float64Array, degenerate: () => Float32Array): Float32Array {
  let squares = 0;
  for (const value of sum) squares += value * value;
  // Vectors that cancel out exactly (vanishingly rare) get the text's own hashed vector.
  if (squares < 1e-12) return Float32Array.from(degenerate());
  const inverse = 1 / Math.sqrt(squares);
  const result = new Float32Array(sum.length);
  for (let d = 0; d < sum.length; d++) result[d] = (sum[d] as number) * inverse;
  return result;
}

/** A unit vector derived from `word` alone (FNV-1a seed, mulberry32 sequence): same word, same vector. */
export function pseudoRandomUnitVector(word: string, dimensions: number): Float32Array {
  let seed = 0x811c9dc5;
  for (let position = 0; position < word.length; position++) {
    seed ^= word.charCodeAt(position);
    seed = Math.imul(seed, 0x01000193);
  }
  const values = new Float64Array(dimensions);
  let squares = 0;
  for (let d = 0; d < dimensions; d++) {
    seed = (seed + 0x6d2b79f5) | 0;
    let mixed = Math.imul(seed ^ (seed >>> 15), seed | 1);
    mixed ^= mixed + Math.imul(mixed ^ (mixed >>> 7), mixed | 61);
    const uniform = ((mixed ^ (mixed >>> 14)) >>> 0) / 4294967296;
    const value = uniform * 2 - 1;
    values[d] = value;
    squares += value * value;
  }
  const inverse = 1 / Math.sqrt(squares);
  const result = new Float32Array(dimensions);
  for (let d = 0; d < dimensions; d++) result[d] = (values[d] as number) * inverse;
  return result;
}
