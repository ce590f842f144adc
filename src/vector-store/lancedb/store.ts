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
import { categoryCollectionsAmong, newGeneration } from "../generations.js";
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
import { connectTo, type OpenTable } from "./open-table.js";
import { type LanceDbStoreOptions, type ResolvedLanceDbOptions, resolveLanceDbOptions } from "./options.js";
import { publishGeneration } from "./rebuild.js";
import { chunksToArrowTable, sqlString } from "./rows.js";
import { searchOpenTable } from "./search.js";
import { TableHandles } from "./table-handles.js";
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
  readonly #settings: ResolvedLanceDbOptions;
  readonly #metadataPath: string;
  readonly #role: Role;
  /** The tables of the generation this store reads and writes (./table-handles.ts). */
  readonly #handles: TableHandles;
  /** A rebuild's metadata, published with its tables. */
  #staged: StoreMetadata | undefined;
  /** In-memory vector copies for exact dense search, one per opened table handle. */
  readonly #memoryIndexes = new WeakMap<lancedb.Table, TableMemoryIndex>();
  #closed = false;

  constructor(connection: lancedb.Connection, settings: ResolvedLanceDbOptions, role: Role) {
    this.#settings = settings;
    this.#role = role;
    this.location = `lancedb:${settings.directory}${role.kind === "rebuild" ? ` (rebuild ${role.generation})` : ""}`;
    this.#metadataPath = join(settings.directory, METADATA_FILE_NAME);
    // Live stores follow the generation the metadata file names; a rebuild has its own.
    this.#handles = new TableHandles(connection, settings, {
      location: this.location,
      generation: role.kind === "rebuild" ? role.generation : undefined,
      pointer:
        role.kind === "live"
          ? new GenerationPointer(this.#metadataPath, settings.readConsistencySeconds * 1000)
          : undefined,
    });
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
    this.#handles.forget();
  }

  async check(options: { signal?: AbortSignal } = {}): Promise<void> {
    this.#assertOpen();
    for (const category of ALL_CATEGORIES) {
      throwIfAborted(options.signal);
      const open = await this.#handles.open(category);
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
    const staging = new LanceDbStore(this.#handles.connection, this.#settings, { kind: "rebuild", generation });
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
        await staging.#handles.closeAll();
        await publishGeneration({
          connection: this.#handles.connection,
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
      await this.#handles.serialize(category, () => this.#handles.forWrite(category, dimensions));
    }
  }

  /** live: every table of every generation and the metadata; rebuild: its own tables only. */
  async drop(): Promise<void> {
    this.#assertOpen();
    const existing = await this.#handles.tableNames();
    const doomed = new Set(
      this.#role.kind === "rebuild"
        ? ALL_CATEGORIES.map((category) => this.#handles.tableName(category)).filter((name) => existing.includes(name))
        : categoryCollectionsAmong(existing),
    );
    for (const category of ALL_CATEGORIES) await this.#handles.serialize(category, () => this.#handles.close(category));
    for (const name of doomed) await this.#handles.connection.dropTable(name);
    if (this.#role.kind === "rebuild") this.#staged = undefined;
    else await removeMetadataFile(this.#metadataPath);
  }

  async upsert(chunks: readonly EmbeddedChunk[], options: UpsertOptions = {}): Promise<void> {
    this.#assertOpen();
    throwIfAborted(options.signal);
    const groups = groupChunksByCategory(chunks);
    for (const [category, group] of groups) {
      await this.#handles.serialize(category, async () => {
        const open = await this.#handles.forWrite(category, group.dimensions);
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
    const open = await this.#handles.open(category);
    if (open === undefined || documentIds.length === 0) return result;
    await collectChunkIdsByDocument(open.table, documentIds, result);
    return result;
  }

  async deleteChunks(category: DataCategory, chunkIds: readonly string[]): Promise<void> {
    this.#assertOpen();
    if (chunkIds.length === 0) return;
    await this.#handles.serialize(category, async () => {
      const open = await this.#handles.open(category);
      if (open === undefined) return;
      await deleteChunkIds(open.table, chunkIds);
    });
  }

  async deleteDocument(category: DataCategory, documentId: string): Promise<void> {
    this.#assertOpen();
    await this.#handles.serialize(category, async () => {
      const open = await this.#handles.open(category);
      if (open !== undefined) await open.table.delete(`document_id = ${sqlString(documentId)}`);
    });
  }

  async search(request: SearchRequest): Promise<SearchHit[]> {
    this.#assertOpen();
    const hybrid = validateSearchRequest(request);
    throwIfAborted(request.signal);
    const open = await this.#handles.open(request.category);
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
        serialize: (category, work) => this.#handles.serialize(category, work),
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
      const open = await this.#handles.open(category);
      if (open === undefined) continue;
      await collectAuthors(open.table, authors);
    }
    return [...authors.values()].sort((left, right) => left.fullName.localeCompare(right.fullName));
  }

  async count(category?: DataCategory): Promise<number> {
    this.#assertOpen();
    let total = 0;
    for (const each of category === undefined ? ALL_CATEGORIES : [category]) {
      const open = await this.#handles.open(each);
      if (open !== undefined) total += await open.table.countRows();
    }
    return total;
  }

  /** The live generation and every table's LanceDB version ("-" for a table not created yet). */
  async dataVersion(): Promise<string> {
    this.#assertOpen();
    const versions: string[] = [];
    for (const category of ALL_CATEGORIES) {
      const open = await this.#handles.open(category);
      versions.push(open === undefined ? "-" : String(await open.table.version()));
    }
    return `${this.#handles.generation ?? "base"}:${versions.join(",")}`;
  }

  async optimize(): Promise<void> {
    this.#assertOpen();
    for (const category of ALL_CATEGORIES) {
      await this.#handles.serialize(category, async () => {
        const open = await this.#handles.open(category);
        if (open !== undefined) await optimizeTable(open, this.#settings);
      });
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#handles.closeAll();
    // A rebuild shares the live store's connection.
    if (this.#role.kind === "live") this.#handles.connection.close();
  }

  #assertOpen(): void {
    if (this.#closed) throw new AppError("shutting_down", `The store ${this.location} is closed.`);
  }
}
