/**
 * An in-memory copy of one table's vectors for exact dense search: every row's unit vector in one
 * Float32Array, its chunk id, LanceDB row id and author. LanceDB answers any query in ≥ 1–2 ms
 * of planning and I/O (measured on the 2-core machine), while scanning a few thousand vectors here
 * takes tens of microseconds, and exact search needs no recall trade-off. The table stays the
 * source of truth: the copy is built from a scan and tagged with the table version it was read at;
 * a search uses it only while the table is still at that version (see MemoryIndexes), and nothing
 * is ever written from it, so a crash loses nothing.
 */
import type { Table } from "@lancedb/lancedb";
import { createDotScanner, type DotScanner } from "./dot-kernel.js";
import { CHUNK_COLUMNS, type ChunkRow, VECTOR_COLUMN } from "./rows.js";

export type MemoryIndexSettings = {
  /** Largest index (vectors) held per table, in MiB; larger tables are searched by LanceDB only. 0 disables. */
  maxMegabytes: number;
  /** Most candidate rows (the table, or the author's rows when filtered) scanned exactly per query; beyond, LanceDB's ANN index answers. */
  maxScanRows: number;
  /**
   * How long the first search of a table waits for its copy to be built; past that (a large table:
   * 100k × 384 takes ~11 s) the search goes to LanceDB while the copy finishes in the background.
   */
  firstBuildWaitMs: number;
};

export const DEFAULT_MEMORY_INDEX_SETTINGS: MemoryIndexSettings = {
  maxMegabytes: 256,
  maxScanRows: 50_000,
  firstBuildWaitMs: 2_000,
};

/** A row's other columns, when the index holds them (a row of an Arrow record batch). */
export type PayloadRow = ChunkRow;

export type MemoryHit = { id: string; rowId: bigint; score: number; row?: PayloadRow };

/** The other columns of every row, as the Arrow record batches the scan returned (no vectors). */
export type Payload = {
  batches: { get(index: number): unknown }[];
  /** Per row position: its batch and its index in that batch. */
  batchOf: Int32Array;
  indexInBatch: Int32Array;
};

export class MemoryVectorIndex {
  readonly version: number;
  readonly dimensions: number;
  readonly size: number;
  readonly #ids: string[];
  readonly #rowIds: BigUint64Array;
  /** Row positions grouped by author; each author's rows are order[start, start + count). */
  readonly #order: Int32Array;
  readonly #authorRanges: Map<string, { start: number; count: number }>;
  readonly #scanner: DotScanner;
  readonly #payload: Payload | undefined;
  /** Row position of each chunk id, built on first use. */
  #positionById: Map<string, number> | undefined;

  constructor(parts: {
    version: number;
    dimensions: number;
    /** Unit vectors, row-major. */
    vectors: Float32Array;
    ids: string[];
    rowIds: BigUint64Array;
    authors: string[];
    scanner?: "wasm-simd" | "javascript";
    payload?: Payload;
  }) {
    this.#payload = parts.payload;
    this.version = parts.version;
    this.dimensions = parts.dimensions;
    this.size = parts.ids.length;
    this.#ids = parts.ids;
    this.#rowIds = parts.rowIds;
    const positions = new Map<string, number[]>();
    parts.authors.forEach((author, row) => {
      let list = positions.get(author);
      if (list === undefined) {
        list = [];
        positions.set(author, list);
      }
      list.push(row);
    });
    this.#order = new Int32Array(this.size);
    this.#authorRanges = new Map();
    let start = 0;
    for (const [author, rows] of positions) {
      this.#order.set(rows, start);
      this.#authorRanges.set(author, { start, count: rows.length });
      start += rows.length;
    }
    // The scanner gets the vectors in that order, so each author's rows are contiguous in memory
    // (a filtered scan then streams one block instead of striding across the whole matrix).
    const dimensions = parts.dimensions;
    const grouped = new Float32Array(this.size * dimensions);
    this.#order.forEach((row, position) => {
      grouped.set(parts.vectors.subarray(row * dimensions, (row + 1) * dimensions), position * dimensions);
    });
    const identity = Int32Array.from({ length: this.size }, (_, position) => position);
    this.#scanner = createDotScanner(grouped, dimensions, identity, parts.scanner);
  }

  /** How dot products are computed: WebAssembly SIMD or plain JavaScript. */
  get scanner(): DotScanner["kind"] {
    return this.#scanner.kind;
  }

  /** Whether search hits carry their rows (no table read needed). */
  get holdsRows(): boolean {
    return this.#payload !== undefined;
  }

  /** The rows of `ids` from the copy; undefined when it holds no rows or lacks one of them. */
  rowsOf(ids: readonly string[]): Map<string, PayloadRow> | undefined {
    const payload = this.#payload;
    if (payload === undefined) return undefined;
    this.#positionById ??= new Map(this.#ids.map((id, position) => [id, position]));
    const rows = new Map<string, PayloadRow>();
    for (const id of ids) {
      const position = this.#positionById.get(id);
      if (position === undefined) return undefined;
      const batch = payload.batches[payload.batchOf[position] as number];
      rows.set(id, batch?.get(payload.indexInBatch[position] as number) as PayloadRow);
    }
    return rows;
  }

  /** Rows a search filtered to `authorId` (or unfiltered) would scan. */
  candidates(authorId: string | undefined): number {
    return authorId === undefined ? this.size : (this.#authorRanges.get(authorId)?.count ?? 0);
  }

  /** The `limit` rows of highest cosine similarity to `query`, best first (exact). */
  search(query: Float32Array, limit: number, authorId: string | undefined): MemoryHit[] {
    const range =
      authorId === undefined
        ? { start: 0, count: this.size }
        : (this.#authorRanges.get(authorId) ?? { start: 0, count: 0 });
    if (range.count === 0 || limit <= 0) return [];
    const scores = this.#scanner.scores(normalized(query), range.start, range.count);
    const top = new TopK(Math.min(limit, range.count));
    for (let position = 0; position < range.count; position++) {
      const score = scores[position] as number;
      if (score > top.floor) top.push(this.#order[range.start + position] as number, score);
    }
    const payload = this.#payload;
    return top.sorted().map(({ row, score }) => ({
      id: this.#ids[row] as string,
      rowId: this.#rowIds[row] as bigint,
      score,
      ...(payload === undefined
        ? {}
        : {
            row: payload.batches[payload.batchOf[row] as number]?.get(
              payload.indexInBatch[row] as number,
            ) as PayloadRow,
          }),
    }));
  }
}

/** `vector` scaled to unit length, written to target[offset ..]. */
function normalizeInto(vector: Float32Array, target: Float32Array, offset: number): void {
  let norm = 0;
  for (let axis = 0; axis < vector.length; axis++) norm += (vector[axis] as number) ** 2;
  const scale = norm > 0 ? 1 / Math.sqrt(norm) : 0;
  for (let axis = 0; axis < vector.length; axis++) target[offset + axis] = (vector[axis] as number) * scale;
}

function normalized(vector: ArrayLike<number>): Float32Array {
  let norm = 0;
  for (let axis = 0; axis < vector.length; axis++) norm += (vector[axis] as number) ** 2;
  const scale = norm > 0 ? 1 / Math.sqrt(norm) : 0;
  return Float32Array.from(vector, (value) => value * scale);
}

/** The best `capacity` (row, score) pairs seen, kept sorted (capacity is a search limit: small). */
class TopK {
  readonly #capacity: number;
  readonly #rows: number[] = [];
  readonly #scores: number[] = [];
  floor = Number.NEGATIVE_INFINITY;

  constructor(capacity: number) {
    this.#capacity = capacity;
    if (capacity <= 0) this.floor = Number.POSITIVE_INFINITY;
  }

  push(row: number, score: number): void {
    let position = this.#scores.length;
    while (position > 0 && (this.#scores[position - 1] as number) < score) position--;
    this.#rows.splice(position, 0, row);
    this.#scores.splice(position, 0, score);
    if (this.#scores.length > this.#capacity) {
      this.#rows.pop();
      this.#scores.pop();
    }
    if (this.#scores.length === this.#capacity) this.floor = this.#scores[this.#capacity - 1] as number;
  }

  sorted(): { row: number; score: number }[] {
    return this.#rows.map((row, position) => ({ row, score: this.#scores[position] as number }));
  }
}

/**
 * Reads every row (all columns, LanceDB row ids) at one table version. The other columns are
 * kept while vectors and rows together stay within `maxBytes`, otherwise dropped (hits then carry
 * no rows). Returns undefined when the table moved to another version during the scan (the
 * caller retries later) or when the vectors alone exceed `maxBytes`.
 */
export async function buildMemoryIndex(
  table: Table,
  dimensions: number,
  maxBytes = Number.POSITIVE_INFINITY,
): Promise<MemoryVectorIndex | undefined> {
  const version = await table.version();
  const rows = await table.countRows();
  if (rows * dimensions * 4 > maxBytes) return undefined;
  let vectors = new Float32Array(rows * dimensions);
  const ids: string[] = [];
  const authors: string[] = [];
  const rowIds: bigint[] = [];
  let payload: Payload | undefined = {
    batches: [],
    batchOf: new Int32Array(rows),
    indexInBatch: new Int32Array(rows),
  };
  let payloadBytes = 0;
  for await (const batch of table
    .query()
    .select([...CHUNK_COLUMNS, VECTOR_COLUMN])
    .withRowId()) {
    const idColumn = batch.getChild("id");
    const authorColumn = batch.getChild("author_id");
    const vectorColumn = batch.getChild(VECTOR_COLUMN);
    const rowIdColumn = batch.getChild("_rowid");
    if (payload !== undefined) {
      const rest = batch.select([...CHUNK_COLUMNS]);
      payloadBytes += rest.data.byteLength;
      if (rows * dimensions * 4 + payloadBytes > maxBytes) payload = undefined;
      else payload.batches.push(rest);
    }
    for (let row = 0; row < batch.numRows; row++) {
      const position = ids.length;
      if ((position + 1) * dimensions > vectors.length) {
        const grown = new Float32Array(Math.max(vectors.length * 2, (position + 1) * dimensions));
        grown.set(vectors);
        vectors = grown;
      }
      const vector = vectorColumn?.get(row) as { toArray(): Float32Array } | null;
      if (vector === null || vector === undefined) continue;
      normalizeInto(vector.toArray(), vectors, position * dimensions);
      ids.push(String(idColumn?.get(row)));
      authors.push(String(authorColumn?.get(row)));
      rowIds.push(BigInt(rowIdColumn?.get(row) as bigint | number));
      if (payload !== undefined && position < payload.batchOf.length) {
        payload.batchOf[position] = payload.batches.length - 1;
        payload.indexInBatch[position] = row;
      }
    }
  }
  if ((await table.version()) !== version || ids.length !== rows) return undefined;
  return new MemoryVectorIndex({
    version,
    dimensions,
    vectors: vectors.subarray(0, ids.length * dimensions),
    ids,
    rowIds: BigUint64Array.from(rowIds),
    authors,
    ...(payload === undefined ? {} : { payload }),
  });
}

/**
 * The memory index of one table, kept at the table's current version: `current()` checks the
 * version (one cheap LanceDB call), builds the first index synchronously, and after a change
 * (a write here or by another process) serves undefined — the caller then asks LanceDB — while a
 * rebuild runs in the background.
 */
export class TableMemoryIndex {
  readonly #table: Table;
  readonly #dimensions: number;
  readonly #settings: MemoryIndexSettings;
  #index: MemoryVectorIndex | undefined;
  #building: Promise<void> | undefined;
  /** Version at which the table was found too large to hold. */
  #tooLargeAt: number | undefined;

  constructor(table: Table, dimensions: number, settings: MemoryIndexSettings) {
    this.#table = table;
    this.#dimensions = dimensions;
    this.#settings = settings;
  }

  /** `build: false` only returns an index already built at the current version (lexical search). */
  async current(options: { build?: boolean } = {}): Promise<MemoryVectorIndex | undefined> {
    const version = await this.#table.version();
    if (this.#index?.version === version) return this.#index;
    if (this.#tooLargeAt === version || options.build === false) return undefined;
    const first = this.#index === undefined;
    this.#building ??= this.#rebuild(version).finally(() => {
      this.#building = undefined;
    });
    if (first) await settledWithin(this.#building, this.#settings.firstBuildWaitMs);
    return this.#index?.version === version ? this.#index : undefined;
  }

  /** Settles when the build in progress (if any) has finished. */
  async settled(): Promise<void> {
    await this.#building;
  }

  async #rebuild(version: number): Promise<void> {
    try {
      const rows = await this.#table.countRows();
      const megabytes = (rows * this.#dimensions * 4) / 2 ** 20;
      // An empty table always gets its (empty) index: searching it then costs no query at all.
      if (rows > 0 && megabytes > this.#settings.maxMegabytes) {
        this.#tooLargeAt = version;
        this.#index = undefined;
        return;
      }
      const index = await buildMemoryIndex(this.#table, this.#dimensions, this.#settings.maxMegabytes * 2 ** 20);
      if (index !== undefined) this.#index = index;
    } catch {
      // The index is only an accelerator: on failure searches keep going to LanceDB.
      this.#index = undefined;
    }
  }
}

/** Waits for `work` for at most `ms` (the work goes on either way). */
async function settledWithin(work: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
  });
  try {
    await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
