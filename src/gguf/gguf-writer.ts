/**
 * A streaming GGUF v3 writer (header, metadata key/values, tensor infos, aligned tensor data).
 * Layout, all little-endian: magic "GGUF", version u32, tensor count u64, metadata count u64;
 * each metadata entry = key (u64 length + UTF-8 bytes), value type u32, value; each tensor info =
 * name, dimension count u32, dimensions u64 (innermost first), ggml type u32, data offset u64
 * (relative to the data section, a multiple of the alignment); then padding to the alignment and
 * the tensor data, each tensor padded to the alignment.
 */

import { randomBytes } from "node:crypto";
import { type FileHandle, open, rename, rm } from "node:fs/promises";

const GGUF_MAGIC = 0x46554747; // "GGUF" read as a little-endian u32
const GGUF_VERSION = 3;
export const GGUF_ALIGNMENT = 32;

const VALUE_TYPE = {
  uint8: 0,
  int8: 1,
  uint16: 2,
  int16: 3,
  uint32: 4,
  int32: 5,
  float32: 6,
  bool: 7,
  string: 8,
  array: 9,
  uint64: 10,
  int64: 11,
  float64: 12,
} as const;

export type ScalarType = "uint32" | "int32" | "float32" | "bool" | "string" | "uint64";

export type MetadataValue =
  | { type: "uint32" | "int32" | "float32" | "uint64"; value: number }
  | { type: "bool"; value: boolean }
  | { type: "string"; value: string }
  | { type: "array"; itemType: "string"; value: readonly string[] }
  | { type: "array"; itemType: "float32" | "int32" | "uint32"; value: readonly number[] };

export const GGML_TYPE = { f32: 0, f16: 1 } as const;
export type TensorType = keyof typeof GGML_TYPE;

export type TensorSpec = {
  name: string;
  /** Innermost dimension first, as GGUF stores them (e.g. token_embd = [n_embd, n_vocab]). */
  dimensions: readonly number[];
  type: TensorType;
  /** Called to produce the values, in storage order, chunk by chunk. */
  fill: (output: Float32Array, startIndex: number) => void;
};

class ByteBuilder {
  private readonly parts: Buffer[] = [];
  length = 0;

  push(buffer: Buffer): void {
    this.parts.push(buffer);
    this.length += buffer.length;
  }
  uint32(value: number): void {
    const buffer = Buffer.alloc(4);
    buffer.writeUInt32LE(value);
    this.push(buffer);
  }
  int32(value: number): void {
    const buffer = Buffer.alloc(4);
    buffer.writeInt32LE(value);
    this.push(buffer);
  }
  uint64(value: number): void {
    const buffer = Buffer.alloc(8);
    buffer.writeBigUInt64LE(BigInt(value));
    this.push(buffer);
  }
  float32(value: number): void {
    const buffer = Buffer.alloc(4);
    buffer.writeFloatLE(value);
    this.push(buffer);
  }
  string(value: string): void {
    const bytes = Buffer.from(value, "utf8");
    this.uint64(bytes.length);
    this.push(bytes);
  }
  toBuffer(): Buffer {
    return Buffer.concat(this.parts);
  }
}

function writeScalar(builder: ByteBuilder, type: ScalarType, value: number | boolean | string): void {
  switch (type) {
    case "uint32":
      builder.uint32(value as number);
      return;
    case "int32":
      builder.int32(value as number);
      return;
    case "float32":
      builder.float32(value as number);
      return;
    case "uint64":
      builder.uint64(value as number);
      return;
    case "bool":
      builder.push(Buffer.from([value ? 1 : 0]));
      return;
    case "string":
      builder.string(value as string);
      return;
  }
}

function writeMetadataValue(builder: ByteBuilder, entry: MetadataValue): void {
  if (entry.type === "array") {
    builder.uint32(VALUE_TYPE.array);
    builder.uint32(VALUE_TYPE[entry.itemType]);
    builder.uint64(entry.value.length);
    for (const item of entry.value) writeScalar(builder, entry.itemType, item);
    return;
  }
  builder.uint32(VALUE_TYPE[entry.type]);
  writeScalar(builder, entry.type, entry.value);
}

function bytesPerElement(type: TensorType): number {
  return type === "f32" ? 4 : 2;
}

function alignUp(value: number, alignment: number): number {
  return Math.ceil(value / alignment) * alignment;
}

export function elementCount(dimensions: readonly number[]): number {
  return dimensions.reduce((product, dimension) => product * dimension, 1);
}

/** Header + metadata + tensor infos, padded so that tensor data starts aligned. */
export function encodeHeader(metadata: ReadonlyMap<string, MetadataValue>, tensors: readonly TensorSpec[]): Buffer {
  const builder = new ByteBuilder();
  builder.uint32(GGUF_MAGIC);
  builder.uint32(GGUF_VERSION);
  builder.uint64(tensors.length);
  builder.uint64(metadata.size);
  for (const [key, entry] of metadata) {
    builder.string(key);
    writeMetadataValue(builder, entry);
  }
  let offset = 0;
  for (const tensor of tensors) {
    builder.string(tensor.name);
    builder.uint32(tensor.dimensions.length);
    for (const dimension of tensor.dimensions) builder.uint64(dimension);
    builder.uint32(GGML_TYPE[tensor.type]);
    builder.uint64(offset);
    offset = alignUp(offset + elementCount(tensor.dimensions) * bytesPerElement(tensor.type), GGUF_ALIGNMENT);
  }
  const padding = alignUp(builder.length, GGUF_ALIGNMENT) - builder.length;
  builder.push(Buffer.alloc(padding));
  return builder.toBuffer();
}

const CHUNK_ELEMENTS = 1 << 18;

/** Writes the tensor data section: values produced chunk by chunk, never a whole tensor in memory. */
export async function writeTensorData(
  file: FileHandle,
  tensors: readonly TensorSpec[],
  convertToHalf: (value: number) => number,
): Promise<void> {
  const values = new Float32Array(CHUNK_ELEMENTS);
  for (const tensor of tensors) {
    const count = elementCount(tensor.dimensions);
    const width = bytesPerElement(tensor.type);
    for (let start = 0; start < count; start += CHUNK_ELEMENTS) {
      const length = Math.min(CHUNK_ELEMENTS, count - start);
      const view = values.subarray(0, length);
      tensor.fill(view, start);
      let buffer: Buffer;
      if (tensor.type === "f32") {
        buffer = Buffer.from(view.slice().buffer);
      } else {
        const halves = new Uint16Array(length);
        for (let index = 0; index < length; index += 1) halves[index] = convertToHalf(view[index] ?? 0);
        buffer = Buffer.from(halves.buffer);
      }
      await file.write(buffer);
    }
    const written = count * width;
    const padding = alignUp(written, GGUF_ALIGNMENT) - written;
    if (padding > 0) await file.write(Buffer.alloc(padding));
  }
}

/**
 * Writes a whole GGUF file (header, then tensor data) to `path` through a temporary file renamed
 * into place, so readers never see a partial file. Returns the file's size in bytes.
 */
export async function writeGgufFile(
  path: string,
  metadata: ReadonlyMap<string, MetadataValue>,
  tensors: readonly TensorSpec[],
  convertToHalf: (value: number) => number,
): Promise<number> {
  const header = encodeHeader(metadata, tensors);
  const temporaryPath = `${path}.${process.pid}-${randomBytes(4).toString("hex")}.tmp`;
  const file = await open(temporaryPath, "w");
  try {
    await file.write(header);
    await writeTensorData(file, tensors, convertToHalf);
    const sizeBytes = (await file.stat()).size;
    await file.close();
    await rename(temporaryPath, path);
    return sizeBytes;
  } catch (error) {
    await file.close().catch(() => undefined);
    await rm(temporaryPath, { force: true });
    throw error;
  }
}
