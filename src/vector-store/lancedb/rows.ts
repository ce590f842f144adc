/**
 * The LanceDB table layout and the conversions between chunks and Arrow record batches.
 * Vectors are built column-wise into one Float32Array per batch (no per-row arrays).
 */
import { createRequire } from "node:module";
import type { Data, FixedSizeList, Schema, Table, Utf8 } from "apache-arrow";
import type { Chunk, DataCategory, EmbeddedChunk } from "../../domain/index.js";

/**
 * LanceDB is CommonJS and requires apache-arrow's CommonJS build; an ESM import would load a
 * second copy whose classes fail LanceDB's instanceof checks. So Arrow values are built with the
 * very copy LanceDB uses.
 */
const arrow = createRequire(import.meta.url)("apache-arrow") as typeof import("apache-arrow");
const { DataType, Field, Float32, Int32, makeData, RecordBatch, Struct, Utf8: Utf8Type } = arrow;

export const VECTOR_COLUMN = "vector";
export const TEXT_COLUMN = "text";

/** Columns returned by searches (everything but the vector). */
export const CHUNK_COLUMNS = [
  "id",
  "document_id",
  "author_id",
  "author_full_name",
  "platform",
  "title",
  "link",
  "chunk_index",
  "text",
  "token_count",
] as const;

const STRING_COLUMNS = ["id", "document_id", "author_id", "author_full_name", "platform", "title", "link", "text"];

export function chunkTableSchema(dimensions: number): Schema {
  return new arrow.Schema([
    ...STRING_COLUMNS.slice(0, 7).map((name) => new Field(name, new Utf8Type(), false)),
    new Field("chunk_index", new Int32(), false),
    new Field("text", new Utf8Type(), false),
    new Field("token_count", new Int32(), false),
    new Field(VECTOR_COLUMN, new arrow.FixedSizeList(dimensions, new Field("item", new Float32(), true)), false),
  ]);
}

/** The vector dimension of an existing table's schema, or undefined when it has no vector column. */
export function vectorDimensionsOf(schema: Schema): number | undefined {
  const field = schema.fields.find((candidate) => candidate.name === VECTOR_COLUMN);
  if (field === undefined || !DataType.isFixedSizeList(field.type)) return undefined;
  return (field.type as FixedSizeList).listSize;
}

/** One Arrow table holding `chunks` in the layout of chunkTableSchema(dimensions). */
export function chunksToArrowTable(chunks: readonly EmbeddedChunk[], dimensions: number): Table {
  const schema = chunkTableSchema(dimensions);
  const length = chunks.length;
  const flat = new Float32Array(length * dimensions);
  chunks.forEach((chunk, row) => {
    flat.set(chunk.vector, row * dimensions);
  });
  const strings = (pick: (chunk: EmbeddedChunk) => string) => utf8Data(chunks.map(pick));
  const integers = (pick: (chunk: EmbeddedChunk) => number) =>
    makeData({ type: new Int32(), length, nullCount: 0, data: Int32Array.from(chunks, pick) });
  const vectorType = schema.fields[10]?.type as FixedSizeList;
  const children: Data[] = [
    strings((chunk) => chunk.id),
    strings((chunk) => chunk.documentId),
    strings((chunk) => chunk.author.id),
    strings((chunk) => chunk.author.fullName),
    strings((chunk) => chunk.platform),
    strings((chunk) => chunk.title),
    strings((chunk) => chunk.link),
    integers((chunk) => chunk.index),
    strings((chunk) => chunk.text),
    integers((chunk) => chunk.tokenCount),
    makeData({
      type: vectorType,
      length,
      nullCount: 0,
      child: makeData({ type: new Float32(), length: flat.length, nullCount: 0, data: flat }),
    }),
  ];
  const data = makeData({ type: new Struct(schema.fields), length, nullCount: 0, children });
  return new arrow.Table([new RecordBatch(schema, data)]);
}

const encoder = new TextEncoder();

/** A Utf8 column from strings: one UTF-8 buffer plus offsets. */
function utf8Data(values: readonly string[]): Data<Utf8> {
  const encoded = values.map((value) => encoder.encode(value));
  const valueOffsets = new Int32Array(values.length + 1);
  let total = 0;
  encoded.forEach((bytes, row) => {
    total += bytes.length;
    valueOffsets[row + 1] = total;
  });
  const data = new Uint8Array(total);
  encoded.forEach((bytes, row) => {
    data.set(bytes, valueOffsets[row]);
  });
  return makeData({ type: new Utf8Type(), length: values.length, nullCount: 0, valueOffsets, data });
}

/** A search or scan row (CHUNK_COLUMNS plus LanceDB's `_distance` / `_score`). */
export type ChunkRow = {
  id: string;
  document_id: string;
  author_id: string;
  author_full_name: string;
  platform: string;
  title: string;
  link: string;
  chunk_index: number;
  text: string;
  token_count: number;
  _distance?: number;
  _score?: number;
};

export function rowToChunk(row: ChunkRow, category: DataCategory): Chunk {
  return {
    id: row.id,
    documentId: row.document_id,
    category,
    author: { id: row.author_id, fullName: row.author_full_name },
    platform: row.platform,
    title: row.title,
    link: row.link,
    index: Number(row.chunk_index),
    text: row.text,
    tokenCount: Number(row.token_count),
  };
}

/** A SQL string literal for LanceDB filters (single quotes doubled). */
export function sqlString(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

/** `column IN (...)` over `values`; callers batch long lists. */
export function sqlIn(column: string, values: readonly string[]): string {
  return `${column} IN (${values.map(sqlString).join(", ")})`;
}
