/**
 * The binary word-vector format of the static embedder's cache (see ./word-vector-cache.ts).
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

const MAGIC = "LLMTWIN-WORDVEC\0";
export const FORMAT_VERSION = 2;
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

/** Quantises `values[0..dimensions)` into `out` at `offset`; returns the scale that makes the row unit length. */
export function quantiseRow(values: ArrayLike<number>, dimensions: number, out: Int8Array, offset: number): number {
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

export function encodeQuantised(
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
