/** Publishing a LanceDB rebuild: one atomic rename of the metadata file, then the old tables go. */
import type * as lancedb from "@lancedb/lancedb";
import { ALL_CATEGORIES } from "../collections.js";
import { categoryCollection, categoryCollectionsAmong } from "../generations.js";
import { writeMetadataFile } from "../metadata-file.js";
import type { StoreMetadata } from "../port.js";

export type PublishOptions = {
  connection: lancedb.Connection;
  metadataPath: string;
  metadata: StoreMetadata;
  generation: string;
};

/**
 * Points the store at `generation` (readers stat the metadata file on each call and follow it),
 * then drops the tables of every other generation, including leftovers of interrupted rebuilds.
 * A reader still inside a query on a dropped table retries once on the new one.
 */
export async function publishGeneration(options: PublishOptions): Promise<void> {
  const { connection, generation } = options;
  await writeMetadataFile(options.metadataPath, options.metadata, generation);
  const existing = await connection.tableNames();
  const keep = new Set(ALL_CATEGORIES.map((category) => categoryCollection(category, generation)));
  for (const name of categoryCollectionsAmong(existing)) {
    if (keep.has(name)) continue;
    // Best effort: a table left behind is dropped by the next publish.
    await connection.dropTable(name).catch(() => undefined);
  }
}
