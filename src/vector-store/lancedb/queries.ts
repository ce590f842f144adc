/** LanceDB queries shared by the adapter's search modes. */
import type { Table } from "@lancedb/lancedb";
import type { AnnSettings } from "./options.js";
import { CHUNK_COLUMNS, type ChunkRow, sqlIn } from "./rows.js";

/**
 * Nearest rows by cosine distance. ef and refineFactor tune the HNSW index when there is one (it
 * may have been built by another process since this handle opened) and are ignored otherwise.
 */
export async function denseRows(
  table: Table,
  ann: AnnSettings,
  vector: Float32Array,
  limit: number,
  where: string | undefined,
  columns: readonly string[],
): Promise<ChunkRow[]> {
  // LanceDB asks the graph for limit × refineFactor candidates, and ef must cover them.
  let query = table
    .vectorSearch(vector)
    .distanceType("cosine")
    .ef(Math.max(ann.ef, limit * ann.refineFactor))
    .refineFactor(ann.refineFactor)
    // `_distance` named in the projection: Lance warns (once per query, on stderr) when a vector
    // search selects columns without it.
    .select([...columns, "_distance"])
    .limit(limit);
  if (where !== undefined) query = query.where(where);
  return (await query.toArray()) as ChunkRow[];
}

/** Full rows of the given chunk ids. */
export async function rowsById(table: Table, ids: readonly string[]): Promise<Map<string, ChunkRow>> {
  const rows = (await table
    .query()
    .where(sqlIn("id", ids))
    .select([...CHUNK_COLUMNS])
    .toArray()) as ChunkRow[];
  return new Map(rows.map((row) => [row.id, row]));
}
