/**
 * The collections behind one Qdrant store: existence, the checked description of each category's
 * collection (dense size, schema guard, missing payload indexes created; cached per category),
 * and creation (live: `<alias>_<generation>` plus the alias to it).
 */
import type { DataCategory } from "../../domain/index.js";
import { dimensionMismatch } from "../request-validation.js";
import { isStatus, type Rest } from "./rest.js";
import { type CollectionInfo, checkCollection, DENSE_VECTOR, SPARSE_VECTOR } from "./schema-guard.js";

/** What the collections need of their store: the REST client and its names. */
export type CollectionScope = {
  rest: Rest;
  /** The alias readers use for a category (or the metadata: category undefined). */
  alias: (category: DataCategory | undefined) => string;
  /** The name the store reads and writes. */
  target: (category: DataCategory | undefined) => string;
  path: (category: DataCategory | undefined, suffix?: string) => string;
  generation: string;
  live: boolean;
  shardNumber: number;
};

export class QdrantCollections {
  readonly #scope: CollectionScope;
  /** Dense size of each checked collection (undefined: it does not exist). */
  readonly #described = new Map<DataCategory, Promise<number | undefined>>();

  constructor(scope: CollectionScope) {
    this.#scope = scope;
  }

  forget(): void {
    this.#described.clear();
  }

  async exists(category: DataCategory | undefined): Promise<boolean> {
    try {
      await this.#scope.rest("collection info", { method: "GET", path: this.#scope.path(category) });
      return true;
    } catch (error) {
      if (isStatus(error, 404)) return false;
      throw error;
    }
  }

  /** The dense size of the category's collection (checked once, missing indexes created), or undefined. */
  dimensions(category: DataCategory): Promise<number | undefined> {
    let described = this.#described.get(category);
    if (described === undefined) {
      described = this.#describe(category);
      this.#described.set(category, described);
      described.catch(() => this.#described.delete(category));
    }
    return described;
  }

  async #describe(category: DataCategory): Promise<number | undefined> {
    let info: CollectionInfo;
    try {
      info = await this.#scope.rest("collection info", { method: "GET", path: this.#scope.path(category) });
    } catch (error) {
      if (isStatus(error, 404)) return undefined;
      throw error;
    }
    const { dimensions, missingIndexes } = checkCollection(this.#scope.target(category), info);
    for (const field of missingIndexes) await this.#createIndex(category, field);
    return dimensions;
  }

  async #createIndex(category: DataCategory, field: string): Promise<void> {
    await this.#scope.rest("payload index creation", {
      method: "PUT",
      path: this.#scope.path(category, "/index"),
      query: { wait: true },
      body: { field_name: field, field_schema: "keyword" },
    });
  }

  /** Creates the collection (live: `<alias>_<generation>` and the alias to it). */
  async create(category: DataCategory | undefined, body: Record<string, unknown>): Promise<void> {
    const alias = this.#scope.alias(category);
    const name = `${alias}_${this.#scope.generation}`;
    try {
      await this.#scope.rest("collection creation", {
        method: "PUT",
        path: `/collections/${encodeURIComponent(name)}`,
        body,
      });
      if (this.#scope.live) {
        await this.#scope.rest("alias creation", {
          method: "POST",
          path: "/collections/aliases",
          body: { actions: [{ create_alias: { collection_name: name, alias_name: alias } }] },
        });
      }
    } catch (error) {
      // Another writer may have created it in the meantime: fine when it exists now.
      if (isStatus(error, 409) && (await this.exists(category))) return;
      throw error;
    }
  }

  async forWrite(category: DataCategory, dimensions: number): Promise<void> {
    let existing = await this.dimensions(category);
    if (existing === undefined) {
      await this.create(category, {
        vectors: { [DENSE_VECTOR]: { size: dimensions, distance: "Cosine" } },
        sparse_vectors: { [SPARSE_VECTOR]: { modifier: "idf" } },
        shard_number: this.#scope.shardNumber,
      });
      this.#described.delete(category);
      existing = await this.dimensions(category);
    }
    if (existing !== dimensions) {
      throw dimensionMismatch(existing ?? 0, dimensions, `collection ${this.#scope.target(category)}`);
    }
  }
}
