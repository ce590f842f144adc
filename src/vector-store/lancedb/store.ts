/**
 * The embedded VectorStore adapter on LanceDB: one table per category in a directory, the
 * metadata in a JSON file beside them. Dense scores are cosine similarities: tables are searched
 * with distanceType "cosine" (distance = 1 - cosine), and the score is 1 - distance.
 */
import { join } from "node:path";
import * as lancedb from "@lancedb/lancedb";
import type { Author, DataCategory, EmbeddedChunk } from "../../domain/index.js";
import { AppError } from "../../errors/app-error.js";
import { ALL_CATEGORIES, collectionName } from "../collections.js";
import { reciprocalRankFusion } from "../fusion.js";
import { readMetadataFile, removeMetadataFile, writeMetadataFile } from "../metadata-file.js";
import type { SearchHit, SearchRequest, StoreMetadata, UpsertOptions, VectorStore } from "../port.js";
import {
  dimensionMismatch,
  groupChunksByCategory,
  throwIfAborted,
  validateSearchRequest,
} from "../request-validation.js";
import { withStoreErrors } from "./errors.js";
import {
  createFullTextIndex,
  createScalarIndexes,
  createVectorIndex,
  fullTextIndexDiffers,
  type IndexState,
  readIndexState,
} from "./indexes.js";
import { type LanceDbStoreOptions, type ResolvedLanceDbOptions, resolveLanceDbOptions } from "./options.js";
import { denseRows, rowsById } from "./queries.js";
import {
  CHUNK_COLUMNS,
  type ChunkRow,
  chunksToArrowTable,
  chunkTableSchema,
  rowToChunk,
  sqlIn,
  sqlString,
  TEXT_COLUMN,
  vectorDimensionsOf,
} from "./rows.js";

export const METADATA_FILE_NAME = "llm-twin-store.json";
/** Ids per `IN (...)` filter. */
const IN_LIST_BATCH = 500;

type OpenTable = { table: lancedb.Table; dimensions: number; indexes: IndexState };

export async function openLanceDbStore(options: LanceDbStoreOptions): Promise<VectorStore> {
  process.env.LANCEDB_LOG ??= "error";
  const settings = resolveLanceDbOptions(options);
  let connection: lancedb.Connection;
  try {
    connection = await lancedb.connect(settings.directory, {
      readConsistencyInterval: settings.readConsistencySeconds,
    });
  } catch (error) {
    throw new AppError("dependency_unavailable", `Cannot open the LanceDB store at ${settings.directory}.`, {
      cause: error,
    });
  }
  return withStoreErrors(new LanceDbStore(connection, settings));
}

class LanceDbStore implements VectorStore {
  readonly kind = "lancedb";
  readonly location: string;
  readonly supportsLexical = true;
  readonly #connection: lancedb.Connection;
  readonly #settings: ResolvedLanceDbOptions;
  readonly #metadataPath: string;
  /** Opened tables, each opened once; a missing table is not cached (it may be created later). */
  readonly #tables = new Map<DataCategory, Promise<OpenTable | undefined>>();
  /** Per-table write queue: writes to one table run one at a time. */
  readonly #writes = new Map<DataCategory, Promise<unknown>>();
  #closed = false;

  constructor(connection: lancedb.Connection, settings: ResolvedLanceDbOptions) {
    this.#connection = connection;
    this.#settings = settings;
    this.location = `lancedb:${settings.directory}`;
    this.#metadataPath = join(settings.directory, METADATA_FILE_NAME);
  }

  async readMetadata(): Promise<StoreMetadata | undefined> {
    this.#assertOpen();
    return readMetadataFile(this.#metadataPath);
  }

  async writeMetadata(metadata: StoreMetadata): Promise<void> {
    this.#assertOpen();
    await writeMetadataFile(this.#metadataPath, metadata);
  }

  async ensureCollections(dimensions: number): Promise<void> {
    this.#assertOpen();
    if (!Number.isInteger(dimensions) || dimensions < 1) {
      throw new AppError("validation_error", `Vector dimensions must be a positive integer, got ${dimensions}.`);
    }
    for (const category of ALL_CATEGORIES) {
      await this.#serialize(category, () => this.#tableForWrite(category, dimensions));
    }
  }

  async drop(): Promise<void> {
    this.#assertOpen();
    const existing = new Set(await this.#tableNames());
    for (const category of ALL_CATEGORIES) {
      await this.#serialize(category, async () => {
        const open = await this.#tables.get(category)?.catch(() => undefined);
        open?.table.close();
        this.#tables.delete(category);
        if (existing.has(collectionName(category))) await this.#connection.dropTable(collectionName(category));
      });
    }
    await removeMetadataFile(this.#metadataPath);
  }

  async upsert(chunks: readonly EmbeddedChunk[], options: UpsertOptions = {}): Promise<void> {
    this.#assertOpen();
    throwIfAborted(options.signal);
    const groups = groupChunksByCategory(chunks);
    for (const [category, group] of groups) {
      await this.#serialize(category, async () => {
        const open = await this.#tableForWrite(category, group.dimensions);
        for (let start = 0; start < group.chunks.length; start += this.#settings.upsertBatchSize) {
          throwIfAborted(options.signal);
          const batch = group.chunks.slice(start, start + this.#settings.upsertBatchSize);
          const data = chunksToArrowTable(batch, open.dimensions);
          if (options.knownNew === true) await open.table.add(data);
          else await open.table.mergeInsert("id").whenMatchedUpdateAll().whenNotMatchedInsertAll().execute(data);
        }
      });
    }
  }

  async chunkIdsByDocument(category: DataCategory, documentIds: readonly string[]): Promise<Map<string, Set<string>>> {
    this.#assertOpen();
    const result = new Map<string, Set<string>>();
    const open = await this.#openTable(category);
    if (open === undefined || documentIds.length === 0) return result;
    const unique = [...new Set(documentIds)];
    for (let start = 0; start < unique.length; start += IN_LIST_BATCH) {
      const rows = (await open.table
        .query()
        .where(sqlIn("document_id", unique.slice(start, start + IN_LIST_BATCH)))
        .select(["id", "document_id"])
        .toArray()) as { id: string; document_id: string }[];
      for (const row of rows) {
        let ids = result.get(row.document_id);
        if (ids === undefined) {
          ids = new Set();
          result.set(row.document_id, ids);
        }
        ids.add(row.id);
      }
    }
    return result;
  }

  async deleteChunks(category: DataCategory, chunkIds: readonly string[]): Promise<void> {
    this.#assertOpen();
    if (chunkIds.length === 0) return;
    await this.#serialize(category, async () => {
      const open = await this.#openTable(category);
      if (open === undefined) return;
      const unique = [...new Set(chunkIds)];
      for (let start = 0; start < unique.length; start += IN_LIST_BATCH) {
        await open.table.delete(sqlIn("id", unique.slice(start, start + IN_LIST_BATCH)));
      }
    });
  }

  async deleteDocument(category: DataCategory, documentId: string): Promise<void> {
    this.#assertOpen();
    await this.#serialize(category, async () => {
      const open = await this.#openTable(category);
      if (open !== undefined) await open.table.delete(`document_id = ${sqlString(documentId)}`);
    });
  }

  async search(request: SearchRequest): Promise<SearchHit[]> {
    this.#assertOpen();
    const hybrid = validateSearchRequest(request);
    throwIfAborted(request.signal);
    const open = await this.#openTable(request.category);
    if (open === undefined) return [];
    if (request.vector !== undefined && request.vector.length !== open.dimensions && request.mode !== "lexical") {
      throw dimensionMismatch(open.dimensions, request.vector.length, `search of ${collectionName(request.category)}`);
    }
    const where =
      request.filter?.authorId === undefined ? undefined : `author_id = ${sqlString(request.filter.authorId)}`;
    let hits: SearchHit[];
    const category = request.category;
    if (request.mode === "dense") {
      const rows = await denseRows(
        open.table,
        this.#settings.ann,
        request.vector as Float32Array,
        request.limit,
        where,
        CHUNK_COLUMNS,
      );
      hits = rows.map((row) => ({ chunk: rowToChunk(row, category), score: 1 - (row._distance ?? 1) }));
    } else if (request.mode === "lexical") {
      const rows = await this.#lexicalRows(open, category, request.text as string, request.limit, where, CHUNK_COLUMNS);
      hits = rows.map((row) => ({ chunk: rowToChunk(row, category), score: row._score ?? 0 }));
    } else {
      // Candidates as ids only (the text column is what costs), fused, then the winners' rows.
      const [dense, lexical] = await Promise.all([
        denseRows(open.table, this.#settings.ann, request.vector as Float32Array, hybrid.candidates, where, ["id"]),
        this.#lexicalRows(open, category, request.text as string, hybrid.candidates, where, ["id"]),
      ]);
      const fused = reciprocalRankFusion(
        [
          { ids: dense.map((row) => row.id), weight: hybrid.denseWeight },
          { ids: lexical.map((row) => row.id), weight: 1 - hybrid.denseWeight },
        ],
        { k: hybrid.rrfK },
      ).slice(0, request.limit);
      const winners = fused.map(({ id }) => id);
      const rows = winners.length === 0 ? new Map<string, ChunkRow>() : await rowsById(open.table, winners);
      hits = fused.flatMap(({ id, score }) => {
        const row = rows.get(id);
        return row === undefined ? [] : [{ chunk: rowToChunk(row, category), score }];
      });
    }
    throwIfAborted(request.signal);
    return hits;
  }

  async #lexicalRows(
    open: OpenTable,
    category: DataCategory,
    text: string,
    limit: number,
    where: string | undefined,
    columns: readonly string[],
  ): Promise<ChunkRow[]> {
    if (!open.indexes.fullText) {
      await this.#serialize(category, async () => {
        // Another process (an ingest run) may have built it since this handle looked.
        Object.assign(open.indexes, await readIndexState(open.table));
        if (!open.indexes.fullText && (await open.table.countRows()) > 0) {
          await createFullTextIndex(open.table, open.indexes, this.#settings.fullText);
        }
      });
      if (!open.indexes.fullText) return [];
    }
    let query = open.table
      .query()
      .fullTextSearch(new lancedb.MatchQuery(text, TEXT_COLUMN, { operator: lancedb.Operator.Or }))
      .select([...columns])
      .limit(limit);
    if (where !== undefined) query = query.where(where);
    return (await query.toArray()) as ChunkRow[];
  }

  async listAuthors(): Promise<Author[]> {
    this.#assertOpen();
    const authors = new Map<string, Author>();
    for (const category of ALL_CATEGORIES) {
      const open = await this.#openTable(category);
      if (open === undefined) continue;
      for await (const batch of open.table.query().select(["author_id", "author_full_name"])) {
        const ids = batch.getChild("author_id");
        const names = batch.getChild("author_full_name");
        for (let row = 0; row < batch.numRows; row++) {
          const id = String(ids?.get(row));
          if (!authors.has(id)) authors.set(id, { id, fullName: String(names?.get(row)) });
        }
      }
    }
    return [...authors.values()].sort((left, right) => left.fullName.localeCompare(right.fullName));
  }

  async count(category?: DataCategory): Promise<number> {
    this.#assertOpen();
    let total = 0;
    for (const each of category === undefined ? ALL_CATEGORIES : [category]) {
      const open = await this.#openTable(each);
      if (open !== undefined) total += await open.table.countRows();
    }
    return total;
  }

  async optimize(): Promise<void> {
    this.#assertOpen();
    for (const category of ALL_CATEGORIES) {
      await this.#serialize(category, async () => {
        const open = await this.#openTable(category);
        if (open === undefined) return;
        const rows = await open.table.countRows();
        if (rows === 0) return;
        Object.assign(open.indexes, await readIndexState(open.table));
        await createScalarIndexes(open.table, open.indexes);
        if (!open.indexes.fullText || fullTextIndexDiffers(open.indexes, this.#settings.fullText)) {
          await createFullTextIndex(open.table, open.indexes, this.#settings.fullText);
        }
        if (!open.indexes.vector && rows >= this.#settings.ann.threshold) {
          await createVectorIndex(open.table, open.indexes, rows, this.#settings.ann);
        }
        // Compacts fragments, folds new rows into every index and prunes old versions.
        await open.table.optimize({
          cleanupOlderThan: new Date(Date.now() - this.#settings.pruneVersionsOlderThanMs),
        });
      });
    }
  }

  /** The one release verb of every adapter (src/runtime); `close()` stays for existing callers. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.allSettled(this.#writes.values());
    for (const pending of this.#tables.values()) {
      const open = await pending.catch(() => undefined);
      open?.table.close();
    }
    this.#tables.clear();
    this.#connection.close();
  }

  #assertOpen(): void {
    if (this.#closed) throw new AppError("shutting_down", `The store ${this.location} is closed.`);
  }

  async #tableNames(): Promise<string[]> {
    return this.#connection.tableNames();
  }

  /** The opened table of `category`, or undefined when it does not exist (yet). */
  async #openTable(category: DataCategory): Promise<OpenTable | undefined> {
    const cached = this.#tables.get(category);
    if (cached !== undefined) {
      const open = await cached;
      if (open !== undefined) return open;
    }
    const opening = (async () => {
      const name = collectionName(category);
      if (!(await this.#tableNames()).includes(name)) return undefined;
      return this.#describe(await this.#connection.openTable(name));
    })();
    this.#tables.set(category, opening);
    try {
      const open = await opening;
      if (open === undefined && this.#tables.get(category) === opening) this.#tables.delete(category);
      return open;
    } catch (error) {
      if (this.#tables.get(category) === opening) this.#tables.delete(category);
      throw new AppError(
        "dependency_unavailable",
        `Cannot open table ${collectionName(category)} in ${this.location}.`,
        {
          cause: error,
        },
      );
    }
  }

  async #describe(table: lancedb.Table): Promise<OpenTable> {
    const dimensions = vectorDimensionsOf(await table.schema());
    if (dimensions === undefined) {
      throw new AppError("internal_error", `Table ${table.name} in ${this.location} has no vector column.`);
    }
    return { table, dimensions, indexes: await readIndexState(table) };
  }

  /** Opens or creates the table of `category` for vectors of `dimensions` (call inside #serialize). */
  async #tableForWrite(category: DataCategory, dimensions: number): Promise<OpenTable> {
    let open = await this.#openTable(category);
    if (open === undefined) {
      const table = await this.#connection.createEmptyTable(collectionName(category), chunkTableSchema(dimensions), {
        existOk: true,
      });
      const created = this.#describe(table);
      this.#tables.set(category, created);
      open = await created;
    }
    if (open.dimensions !== dimensions) {
      throw dimensionMismatch(open.dimensions, dimensions, `table ${collectionName(category)}`);
    }
    return open;
  }

  /** Runs `work` after every earlier write to the same table has settled. */
  async #serialize<T>(category: DataCategory, work: () => Promise<T>): Promise<T> {
    const previous = this.#writes.get(category) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(work);
    this.#writes.set(
      category,
      next.catch(() => undefined),
    );
    return next;
  }
}
