/**
 * The LanceDB tables one store works on: which generation's tables (a live store follows the
 * generation pointer of its metadata file, a rebuild has its own generation), each table opened
 * once and cached, and a write queue per table (writes to one table run one at a time).
 */
import type * as lancedb from "@lancedb/lancedb";
import type { DataCategory } from "../../domain/index.js";
import { AppError } from "../../errors/app-error.js";
import { categoryCollection } from "../generations.js";
import { dimensionMismatch } from "../request-validation.js";
import type { GenerationPointer } from "./generation-pointer.js";
import { connectTo, describeTable, type OpenTable } from "./open-table.js";
import type { ResolvedLanceDbOptions } from "./options.js";
import { chunkTableSchema } from "./rows.js";

export type TableHandlesOptions = {
  /** The store's location, for error messages. */
  location: string;
  /** The generation whose tables are used (undefined: the bare table names). */
  generation: string | undefined;
  /** A live store's pointer to the generation it follows; none for a rebuild. */
  pointer: GenerationPointer | undefined;
};

export class TableHandles {
  #connection: lancedb.Connection;
  readonly #settings: ResolvedLanceDbOptions;
  readonly #location: string;
  #generation: string | undefined;
  readonly #pointer: GenerationPointer | undefined;
  /** Opened tables, each opened once; a missing table is not cached (it may be created later). */
  readonly #tables = new Map<DataCategory, Promise<OpenTable | undefined>>();
  /** Per-table write queue. */
  readonly #writes = new Map<DataCategory, Promise<unknown>>();

  constructor(connection: lancedb.Connection, settings: ResolvedLanceDbOptions, options: TableHandlesOptions) {
    this.#connection = connection;
    this.#settings = settings;
    this.#location = options.location;
    this.#generation = options.generation;
    this.#pointer = options.pointer;
  }

  /** The current connection (a live store reconnects when it follows a new metadata file). */
  get connection(): lancedb.Connection {
    return this.#connection;
  }

  /** The generation whose tables are read (undefined: the bare table names). */
  get generation(): string | undefined {
    return this.#generation;
  }

  tableName(category: DataCategory): string {
    return categoryCollection(category, this.#generation);
  }

  async tableNames(): Promise<string[]> {
    return this.#connection.tableNames();
  }

  /** Drops every cached table handle and re-reads the generation pointer on the next call. */
  forget(): void {
    this.#tables.clear();
    this.#pointer?.forget();
  }

  /** The opened table of `category`, or undefined when it does not exist (yet). */
  async open(category: DataCategory): Promise<OpenTable | undefined> {
    // A rebuild published while this call was opening a table (another call followed the pointer
    // meanwhile) would leave it with the previous generation's table, dropped right after: open
    // again for the generation now live, so a reader never takes a dropped table for a missing one.
    for (let attempt = 0; ; attempt++) {
      const generation = await this.#currentGeneration();
      const open = await this.#openOf(category);
      if (this.#generation === generation || attempt >= 2) return open;
    }
  }

  /** Opens or creates the table of `category` for vectors of `dimensions` (call inside `serialize`). */
  async forWrite(category: DataCategory, dimensions: number): Promise<OpenTable> {
    let open = await this.open(category);
    if (open === undefined) {
      const table = await this.#connection.createEmptyTable(this.tableName(category), chunkTableSchema(dimensions), {
        existOk: true,
      });
      const created = describeTable(table, this.#location);
      this.#tables.set(category, created);
      open = await created;
    }
    if (open.dimensions !== dimensions) {
      throw dimensionMismatch(open.dimensions, dimensions, `table ${this.tableName(category)}`);
    }
    return open;
  }

  /** Runs `work` after every earlier write to the same table has settled. */
  async serialize<T>(category: DataCategory, work: () => Promise<T>): Promise<T> {
    const previous = this.#writes.get(category) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(work);
    this.#writes.set(
      category,
      next.catch(() => undefined),
    );
    return next;
  }

  /** Closes and forgets the cached handle of `category` (call inside `serialize`). */
  async close(category: DataCategory): Promise<void> {
    const open = await this.#tables.get(category)?.catch(() => undefined);
    open?.table.close();
    this.#tables.delete(category);
  }

  /** Waits for the writes in flight, then closes every cached handle. */
  async closeAll(): Promise<void> {
    await Promise.allSettled(this.#writes.values());
    for (const pending of this.#tables.values()) {
      const open = await pending.catch(() => undefined);
      open?.table.close();
    }
    this.#tables.clear();
  }

  /** Follows the generation pointer of a live store (./generation-pointer.ts). */
  async #currentGeneration(): Promise<string | undefined> {
    const seen = await this.#pointer?.look();
    if (seen !== undefined) {
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
    return this.#generation;
  }

  async #openOf(category: DataCategory): Promise<OpenTable | undefined> {
    const cached = this.#tables.get(category);
    if (cached !== undefined) {
      const open = await cached;
      // A handle of another generation (cached by a call that raced a switch) is not this one.
      if (open !== undefined && open.table.name === this.tableName(category)) return open;
      if (this.#tables.get(category) === cached) this.#tables.delete(category);
    }
    const name = this.tableName(category);
    const opening = (async () => {
      if (!(await this.tableNames()).includes(name)) return undefined;
      return describeTable(await this.#connection.openTable(name), this.#location);
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
        `Cannot open table ${this.tableName(category)} in ${this.#location}.`,
        {
          cause: error,
        },
      );
    }
  }
}
