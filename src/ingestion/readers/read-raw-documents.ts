/**
 * Raw document readers: a JSON array (or a single JSON object), a JSON Lines file, or a folder
 * of such files. Every record yields one ReadResult; a bad record (or an unreadable file) is a
 * failure result with file, index and reason — reading never aborts on bad data.
 */
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { gunzipSync } from "node:zlib";
import { canonicalJson, sha256Hex } from "../../preprocessing/canonical-json.js";
import { listInputFiles } from "./list-files.js";
import { parseRecord } from "./parse-record.js";
import {
  DEFAULT_MAX_DOCUMENT_BYTES,
  DEFAULT_MAX_FILE_BYTES,
  type ReadOptions,
  type ReadResult,
  type SourceFile,
} from "./types.js";

const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });
const lenientUtf8 = new TextDecoder("utf-8", { fatal: false, ignoreBOM: false });
const REPLACEMENT_CHARACTER = "\uFFFD";

export async function* readRawDocuments(path: string, options: ReadOptions = {}): AsyncIterable<ReadResult> {
  const maxFileBytes = options.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;
  const maxDocumentBytes = options.maxDocumentBytes ?? DEFAULT_MAX_DOCUMENT_BYTES;
  for (const file of await listInputFiles(path)) {
    yield* readFileResults(file, maxFileBytes, maxDocumentBytes);
  }
}

/** Every input file with its sha256 and size (for artifact lineage), in reading order. */
export async function describeSources(path: string): Promise<SourceFile[]> {
  const sources: SourceFile[] = [];
  for (const file of await listInputFiles(path)) {
    const bytes = await readFile(file);
    sources.push({ file, sha256: createHash("sha256").update(bytes).digest("hex"), bytes: bytes.length });
  }
  return sources;
}

function* fileFailure(file: string, reason: string): Iterable<ReadResult> {
  yield { ok: false, source: { file, index: -1 }, reason };
}

async function* readFileResults(
  file: string,
  maxFileBytes: number,
  maxDocumentBytes: number,
): AsyncIterable<ReadResult> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (error) {
    yield* fileFailure(file, `cannot read file: ${(error as Error).message}`);
    return;
  }
  if (bytes.length > maxFileBytes) {
    yield* fileFailure(file, `file is ${bytes.length} bytes, over the limit of ${maxFileBytes} bytes (maxFileBytes)`);
    return;
  }
  if (file.toLowerCase().endsWith(".gz")) {
    try {
      bytes = gunzipSync(bytes, { maxOutputLength: maxFileBytes });
    } catch (error) {
      yield* fileFailure(file, `cannot decompress gzip file: ${(error as Error).message}`);
      return;
    }
  }
  if (isBlank(bytes)) {
    yield* fileFailure(file, "file is empty");
    return;
  }
  const lower = file.toLowerCase().replace(/\.gz$/, "");
  const jsonLines =
    lower.endsWith(".jsonl") || lower.endsWith(".ndjson") || (!lower.endsWith(".json") && firstByte(bytes) !== 0x5b);
  if (jsonLines) yield* readJsonLines(file, bytes, maxDocumentBytes);
  else yield* readJsonDocument(file, bytes, maxDocumentBytes);
}

function* readJsonDocument(file: string, bytes: Buffer, maxDocumentBytes: number): Iterable<ReadResult> {
  let text: string;
  let invalidUtf8 = false;
  try {
    text = strictUtf8.decode(bytes);
  } catch {
    // Locate the damaged records instead of rejecting the whole file: decode leniently and
    // reject the records that received replacement characters.
    invalidUtf8 = true;
    text = lenientUtf8.decode(bytes);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    if (firstNonSpace(text) === "{" && text.trim().includes("\n")) {
      // A .json file holding JSON Lines.
      yield* readJsonLines(file, bytes, maxDocumentBytes);
      return;
    }
    yield* fileFailure(file, `invalid JSON: ${(error as Error).message}`);
    return;
  }
  const records = Array.isArray(value) ? value : [value];
  for (let index = 0; index < records.length; index++) {
    yield checkRecord(records[index], { file, index }, maxDocumentBytes, invalidUtf8);
  }
}

function* readJsonLines(file: string, bytes: Buffer, maxDocumentBytes: number): Iterable<ReadResult> {
  let lineStart = 0;
  let index = 0;
  let nonBlank = 0;
  while (lineStart <= bytes.length) {
    let lineEnd = bytes.indexOf(0x0a, lineStart);
    if (lineEnd < 0) lineEnd = bytes.length;
    const line = bytes.subarray(lineStart, lineEnd);
    const source = { file, index };
    if (!isBlank(line)) {
      nonBlank++;
      yield parseLine(line, source, maxDocumentBytes);
    }
    index++;
    lineStart = lineEnd + 1;
  }
  if (nonBlank === 0) yield* fileFailure(file, "file is empty");
}

function parseLine(line: Buffer, source: { file: string; index: number }, maxDocumentBytes: number): ReadResult {
  if (line.length > maxDocumentBytes) {
    return { ok: false, source, reason: tooLarge(line.length, maxDocumentBytes) };
  }
  let text: string;
  try {
    text = strictUtf8.decode(line);
  } catch {
    return { ok: false, source, reason: `line ${source.index + 1} is not valid UTF-8 (${describeInvalidUtf8(line)})` };
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { ok: false, source, reason: `line ${source.index + 1}: invalid JSON: ${(error as Error).message}` };
  }
  return checkRecord(value, source, maxDocumentBytes, false);
}

function checkRecord(
  value: unknown,
  source: { file: string; index: number },
  maxDocumentBytes: number,
  mayHoldInvalidUtf8: boolean,
): ReadResult {
  const canonical = canonicalJson(value);
  const size = Buffer.byteLength(canonical, "utf8");
  if (size > maxDocumentBytes) return { ok: false, source, reason: tooLarge(size, maxDocumentBytes) };
  if (mayHoldInvalidUtf8 && canonical.includes(REPLACEMENT_CHARACTER)) {
    return { ok: false, source, reason: "record contains bytes that are not valid UTF-8" };
  }
  const parsed = parseRecord(value);
  if (!parsed.ok) return { ok: false, source, reason: parsed.reason };
  return { ok: true, document: parsed.document, source, sourceHash: sha256Hex(canonical) };
}

function tooLarge(size: number, limit: number): string {
  return `document is ${size} bytes, over the limit of ${limit} bytes (maxDocumentBytes)`;
}

/** Offset of the first byte that breaks UTF-8 (structure only; the strict decoder has the last word). */
function describeInvalidUtf8(bytes: Buffer): string {
  let offset = 0;
  while (offset < bytes.length) {
    const byte = bytes[offset] ?? 0;
    const length =
      byte < 0x80
        ? 1
        : byte >= 0xc2 && byte < 0xe0
          ? 2
          : byte >= 0xe0 && byte < 0xf0
            ? 3
            : byte >= 0xf0 && byte < 0xf5
              ? 4
              : 0;
    if (length === 0) return `invalid byte 0x${byte.toString(16).padStart(2, "0")} at byte ${offset}`;
    for (let next = 1; next < length; next++) {
      const continuation = bytes[offset + next];
      if (continuation === undefined || continuation < 0x80 || continuation >= 0xc0) {
        return `truncated sequence starting with byte 0x${byte.toString(16)} at byte ${offset}`;
      }
    }
    offset += length;
  }
  return "invalid byte sequence (overlong or surrogate encoding)";
}

function isBlank(bytes: Buffer): boolean {
  return firstByte(bytes) === undefined;
}

function firstByte(bytes: Buffer): number | undefined {
  for (let offset = 0; offset < bytes.length; offset++) {
    const byte = bytes[offset] ?? 0;
    if (byte === 0xef && bytes[offset + 1] === 0xbb && bytes[offset + 2] === 0xbf) {
      offset += 2;
      continue;
    }
    if (byte !== 0x20 && byte !== 0x0a && byte !== 0x0d && byte !== 0x09) return byte;
  }
  return undefined;
}

function firstNonSpace(text: string): string | undefined {
  const match = /\S/.exec(text);
  return match?.[0];
}
