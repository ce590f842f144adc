/** LanceDB queries shared by the adapter's search modes. */
import type { Table } from "@lancedb/lancedb";
import type { AnnSettings } from "./options.js";
import { CHUNK_COLUMNS, type ChunkRow, sqlIn } from "./rows.js";

/** Nearest rows by cosine distance; with the HNSW index, tuned by ef and refineFactor. */
export async function denseRows(
  table: Table,
  indexed: boolean,
  ann: AnnSettings,
  vector: Float32Array,
  limit: number,
  where: string | undefined,
  columns: readonly string[],
): Promise<ChunkRow[]> {
  let query = table
    .vectorSearch(vector)
    .distanceType("cosine")
    .select([...columns])
    .limit(limit);
  if (indexed) {
    // LanceDB asks the graph for limit × refineFactor candidates, and ef must cover them.
    query = query.ef(Math.max(ann.ef, limit * ann.refineFactor)).refineFactor(ann.refineFactor);
  }
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
