/**
 * The embedded VectorStore adapter on LanceDB: one table per category in a directory, the
 * metadata in a JSON file beside them. Dense scores are cosine similarities: tables are searched
 * with distanceType "cosine" (distance = 1 - cosine), and the score is 1 - distance.
 */
import { join } from "node:path";
import type * as lancedb from "@lancedb/lancedb";
import type { Author, DataCategory, EmbeddedChunk } from "../../domain/index.js";
import { AppError } from "../../errors/app-error.js";
import { ALL_CATEGORIES, collectionName } from "../collections.js";
import { categoryCollection, categoryCollectionsAmong, newGeneration } from "../generations.js";
import { readMetadataDocument, removeMetadataFile, writeMetadataFile } from "../metadata-file.js";
import type { SearchHit, SearchRequest, StoreMetadata, StoreRebuild, UpsertOptions, VectorStore } from "../port.js";
import {
  dimensionMismatch,
  groupChunksByCategory,
  throwIfAborted,
  validateSearchRequest,
} from "../request-validation.js";
import { withStoreErrors } from "./errors.js";
import { GenerationPointer } from "./generation-pointer.js";
import { TableMemoryIndex } from "./memory-index.js";
import { connectTo, describeTable, type OpenTable } from "./open-table.js";
import { type LanceDbStoreOptions, type ResolvedLanceDbOptions, resolveLanceDbOptions } from "./options.js";
import { publishGeneration } from "./rebuild.js";
import { chunksToArrowTable, chunkTableSchema, sqlString } from "./rows.js";
import { searchOpenTable } from "./search.js";
import { collectAuthors, collectChunkIdsByDocument, deleteChunkIds, optimizeTable } from "./table-operations.js";

export const METADATA_FILE_NAME = "llm-twin-store.json";

export async function openLanceDbStore(options: LanceDbStoreOptions): Promise<VectorStore> {
  process.env.LANCEDB_LOG ??= "error";
  const settings = resolveLanceDbOptions(options);
  const connection = await connectTo(settings);
  const store = new LanceDbStore(connection, settings, { kind: "live" });
  return withStoreErrors(store, () => store.forgetHandles());
}

/**
 * live: reads and writes the generation the metadata file points to, and follows it when another
 * process publishes a rebuild. rebuild: writes its own new generation, invisible until published.
 */
type Role = { kind: "live" } | { kind: "rebuild"; generation: string };

class LanceDbStore implements VectorStore {
  readonly kind = "lancedb";
  readonly location: string;
  readonly supportsLexical = true;
  #connection: lancedb.Connection;
  readonly #settings: ResolvedLanceDbOptions;
  readonly #metadataPath: string;
  /** Opened tables, each opened once; a missing table is not cached (it may be created later). */
  readonly #tables = new Map<DataCategory, Promise<OpenTable | undefined>>();
  /** Per-table write queue: writes to one table run one at a time. */
  readonly #writes = new Map<DataCategory, Promise<unknown>>();
  readonly #role: Role;
  /** The generation whose tables this store reads (undefined: the bare table names). */
  #generation: string | undefined;
  /** Live stores follow the generation the metadata file names; a rebuild has its own. */
  readonly #pointer: GenerationPointer | undefined;
  /** A rebuild's metadata, published with its tables. */
  #staged: StoreMetadata | undefined;
  /** In-memory vector copies for exact dense search, one per opened table handle. */
  readonly #memoryIndexes = new WeakMap<lancedb.Table, TableMemoryIndex>();
  #closed = false;

  constructor(connection: lancedb.Connection, settings: ResolvedLanceDbOptions, role: Role) {
    this.#connection = connection;
    this.#settings = settings;
    this.#role = role;
    this.#generation = role.kind === "rebuild" ? role.generation : undefined;
    this.location = `lancedb:${settings.directory}${role.kind === "rebuild" ? ` (rebuild ${role.generation})` : ""}`;
    this.#metadataPath = join(settings.directory, METADATA_FILE_NAME);
    this.#pointer =
      role.kind === "live"
        ? new GenerationPointer(this.#metadataPath, settings.readConsistencySeconds * 1000)
        : undefined;
  }

  async readMetadata(): Promise<StoreMetadata | undefined> {
    this.#assertOpen();
    if (this.#role.kind === "rebuild") return this.#staged;
    return (await readMetadataDocument(this.#metadataPath))?.metadata;
  }

  async writeMetadata(metadata: StoreMetadata): Promise<void> {
    this.#assertOpen();
    if (this.#role.kind === "rebuild") {
      this.#staged = metadata;
      return;
    }
    // Keep the pointer: the metadata file also names the live generation.
    const current = await readMetadataDocument(this.#metadataPath);
    await writeMetadataFile(this.#metadataPath, metadata, current?.generation);
  }

  /** Drops every cached table handle and re-reads the generation pointer on the next call. */
  forgetHandles(): void {
    this.#tables.clear();
    this.#pointer?.forget();
  }

  async check(options: { signal?: AbortSignal } = {}): Promise<void> {
    this.#assertOpen();
    for (const category of ALL_CATEGORIES) {
      throwIfAborted(options.signal);
      const open = await this.#openTable(category);
      if (open === undefined) continue;
      await open.table.query().select(["id"]).limit(1).toArray();
    }
  }

  async startRebuild(): Promise<StoreRebuild> {
    this.#assertOpen();
    if (this.#role.kind === "rebuild") {
      throw new AppError("internal_error", `${this.location} is already a rebuild.`);
    }
    const generation = newGeneration();
    const staging = new LanceDbStore(this.#connection, this.#settings, { kind: "rebuild", generation });
    let settled = false;
    return {
      store: withStoreErrors(staging, () => staging.forgetHandles()),
      publish: async () => {
        if (settled) throw new AppError("internal_error", `The rebuild ${generation} is already settled.`);
        const metadata = staging.#staged;
        if (metadata === undefined) {
          throw new AppError("internal_error", `The rebuild ${generation} has no metadata to publish.`);
        }
        settled = true;
        await staging.#closeHandles();
        await publishGeneration({
          connection: this.#connection,
          metadataPath: this.#metadataPath,
          metadata,
          generation,
        });
        this.forgetHandles();
      },
      discard: async () => {
        if (settled) return;
        settled = true;
        await staging.drop();
        await staging[Symbol.asyncDispose]();
      },
    };
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

  /** live: every table of every generation and the metadata; rebuild: its own tables only. */
  async drop(): Promise<void> {
    this.#assertOpen();
    const existing = await this.#tableNames();
    const doomed = new Set(
      this.#role.kind === "rebuild"
        ? ALL_CATEGORIES.map((category) => categoryCollection(category, this.#generation)).filter((name) =>
            existing.includes(name),
          )
        : categoryCollectionsAmong(existing),
    );
    for (const category of ALL_CATEGORIES) {
      await this.#serialize(category, async () => {
        const open = await this.#tables.get(category)?.catch(() => undefined);
        open?.table.close();
        this.#tables.delete(category);
      });
    }
    for (const name of doomed) await this.#connection.dropTable(name);
    if (this.#role.kind === "rebuild") this.#staged = undefined;
    else await removeMetadataFile(this.#metadataPath);
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
    await collectChunkIdsByDocument(open.table, documentIds, result);
    return result;
  }

  async deleteChunks(category: DataCategory, chunkIds: readonly string[]): Promise<void> {
    this.#assertOpen();
    if (chunkIds.length === 0) return;
    await this.#serialize(category, async () => {
      const open = await this.#openTable(category);
      if (open === undefined) return;
      await deleteChunkIds(open.table, chunkIds);
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
    const authorId = request.filter?.authorId;
    const where = authorId === undefined ? undefined : `author_id = ${sqlString(authorId)}`;
    // Exact search in memory when the candidates are few enough; an empty table costs no query.
    const memory = await this.#memoryIndexOf(open, request.mode !== "lexical");
    if (memory?.size === 0) return [];
    const scanInMemory = memory !== undefined && memory.candidates(authorId) <= this.#settings.memoryIndex.maxScanRows;
    const hits = await searchOpenTable(
      {
        open,
        settings: this.#settings,
        scanMemory: scanInMemory ? memory : undefined,
        serialize: (category, work) => this.#serialize(category, work),
      },
      request,
      hybrid,
      where,
    );
    throwIfAborted(request.signal);
    return hits;
  }

  /** The table's memory index at its current version, when it has one (see memory-index.ts). */
  async #memoryIndexOf(open: OpenTable, build: boolean) {
    let holder = this.#memoryIndexes.get(open.table);
    if (holder === undefined) {
      holder = new TableMemoryIndex(open.table, open.dimensions, this.#settings.memoryIndex);
      this.#memoryIndexes.set(open.table, holder);
    }
    return holder.current({ build });
  }

  async listAuthors(): Promise<Author[]> {
    this.#assertOpen();
    const authors = new Map<string, Author>();
    for (const category of ALL_CATEGORIES) {
      const open = await this.#openTable(category);
      if (open === undefined) continue;
      await collectAuthors(open.table, authors);
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

  /** The live generation and every table's LanceDB version ("-" for a table not created yet). */
  async dataVersion(): Promise<string> {
    this.#assertOpen();
    const versions: string[] = [];
    for (const category of ALL_CATEGORIES) {
      const open = await this.#openTable(category);
      versions.push(open === undefined ? "-" : String(await open.table.version()));
    }
    return `${this.#generation ?? "base"}:${versions.join(",")}`;
  }

  async optimize(): Promise<void> {
    this.#assertOpen();
    for (const category of ALL_CATEGORIES) {
      await this.#serialize(category, async () => {
        const open = await this.#openTable(category);
        if (open !== undefined) await optimizeTable(open, this.#settings);
      });
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#closeHandles();
    // A rebuild shares the live store's connection.
    if (this.#role.kind === "live") this.#connection.close();
  }

  async #closeHandles(): Promise<void> {
    await Promise.allSettled(this.#writes.values());
    for (const pending of this.#tables.values()) {
      const open = await pending.catch(() => undefined);
      open?.table.close();
    }
    this.#tables.clear();
  }

  #assertOpen(): void {
    if (this.#closed) throw new AppError("shutting_down", `The store ${this.location} is closed.`);
  }

  async #tableNames(): Promise<string[]> {
    return this.#connection.tableNames();
  }

  #tableName(category: DataCategory): string {
    return categoryCollection(category, this.#generation);
  }

  /** Follows the generation pointer of a live store (./generation-pointer.ts). */
  async #followGeneration(): Promise<void> {
    const seen = await this.#pointer?.look();
    if (seen === undefined) return;
    // A new metadata file: reopen, on a new connection, whose caches cannot hold another
    // folder's files of the same table versions.
    if (seen.changed) {
      this.#tables.clear();
      // Set before the connection is awaited: a call running meanwhile must not open (and cache)
      // the previous generation's table.
      this.#generation = seen.generation;
      this.#connection = await connectTo(this.#settings);
    }
    this.#generation = seen.generation;
  }

  /** The opened table of `category`, or undefined when it does not exist (yet). */
  async #openTable(category: DataCategory): Promise<OpenTable | undefined> {
    // A rebuild published while this call was opening a table (another call followed the pointer
    // meanwhile) would leave it with the previous generation's table, dropped right after: open
    // again for the generation now live, so a reader never takes a dropped table for a missing one.
    for (let attempt = 0; ; attempt++) {
      const generation = await this.#currentGeneration();
      const open = await this.#openTableOf(category);
      if (this.#generation === generation || attempt >= 2) return open;
    }
  }

  async #currentGeneration(): Promise<string | undefined> {
    await this.#followGeneration();
    return this.#generation;
  }

  async #openTableOf(category: DataCategory): Promise<OpenTable | undefined> {
    const cached = this.#tables.get(category);
    if (cached !== undefined) {
      const open = await cached;
      // A handle of another generation (cached by a call that raced a switch) is not this one.
      if (open !== undefined && open.table.name === this.#tableName(category)) return open;
      if (this.#tables.get(category) === cached) this.#tables.delete(category);
    }
    const name = this.#tableName(category);
    const opening = (async () => {
      if (!(await this.#tableNames()).includes(name)) return undefined;
      return describeTable(await this.#connection.openTable(name), this.location);
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
        `Cannot open table ${this.#tableName(category)} in ${this.location}.`,
        {
          cause: error,
        },
      );
    }
  }

  /** Opens or creates the table of `category` for vectors of `dimensions` (call inside #serialize). */
  async #tableForWrite(category: DataCategory, dimensions: number): Promise<OpenTable> {
    let open = await this.#openTable(category);
    if (open === undefined) {
      const table = await this.#connection.createEmptyTable(this.#tableName(category), chunkTableSchema(dimensions), {
        existOk: true,
      });
      const created = describeTable(table, this.location);
      this.#tables.set(category, created);
      open = await created;
    }
    if (open.dimensions !== dimensions) {
      throw dimensionMismatch(open.dimensions, dimensions, `table ${this.#tableName(category)}`);
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
