/** LanceDB queries shared by the adapter's search modes. */
import type { Table } from "@lancedb/lancedb";
import type { MemoryVectorIndex } from "./memory-index.js";
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
  // `_distance` is selected explicitly: LanceDB warns when a projection leaves it out.
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

/**
 * Nearest rows by exact cosine similarity from the memory index, with their columns from the
 * index when it holds them, otherwise only those rows read from the table (by LanceDB row id,
 * valid at the index's version). Undefined when a fetched row
 * is not the one the index expected (the table changed in between): the caller asks LanceDB.
 */
export async function memoryDenseRows(
  table: Table,
  index: MemoryVectorIndex,
  vector: Float32Array,
  limit: number,
  authorId: string | undefined,
): Promise<{ row: ChunkRow; score: number }[] | undefined> {
  const hits = index.search(vector, limit, authorId);
  if (hits.length === 0) return [];
  if (hits.every((hit) => hit.row !== undefined)) {
    return hits.map((hit) => ({ row: hit.row as ChunkRow, score: hit.score }));
  }
  const rows = (await table
    .takeRowIds(hits.map((hit) => hit.rowId))
    .select([...CHUNK_COLUMNS])
    .toArray()) as ChunkRow[];
  const byId = new Map(rows.map((row) => [row.id, row]));
  const ordered: { row: ChunkRow; score: number }[] = [];
  for (const hit of hits) {
    const row = byId.get(hit.id);
    if (row === undefined) return undefined;
    ordered.push({ row, score: hit.score });
  }
  return ordered;
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
