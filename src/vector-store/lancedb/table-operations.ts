/** Operations on one opened table of the LanceDB store, as free functions of the table. */
import type * as lancedb from "@lancedb/lancedb";
import type { Author } from "../../domain/index.js";
import {
  createFullTextIndex,
  createScalarIndexes,
  createVectorIndex,
  fullTextIndexDiffers,
  readIndexState,
} from "./indexes.js";
import type { OpenTable } from "./open-table.js";
import type { ResolvedLanceDbOptions } from "./options.js";
import { sqlIn } from "./rows.js";

/** Ids per `IN (...)` filter. */
const IN_LIST_BATCH = 500;

/** Adds to `result` the chunk ids of each of `documentIds` found in `table`. */
export async function collectChunkIdsByDocument(
  table: lancedb.Table,
  documentIds: readonly string[],
  result: Map<string, Set<string>>,
): Promise<void> {
  const unique = [...new Set(documentIds)];
  for (let start = 0; start < unique.length; start += IN_LIST_BATCH) {
    const rows = (await table
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
}

/** Deletes the rows of `chunkIds` from `table`, in batches. */
export async function deleteChunkIds(table: lancedb.Table, chunkIds: readonly string[]): Promise<void> {
  const unique = [...new Set(chunkIds)];
  for (let start = 0; start < unique.length; start += IN_LIST_BATCH) {
    await table.delete(sqlIn("id", unique.slice(start, start + IN_LIST_BATCH)));
  }
}

/** Adds to `authors` every author of `table` not already in it. */
export async function collectAuthors(table: lancedb.Table, authors: Map<string, Author>): Promise<void> {
  for await (const batch of table.query().select(["author_id", "author_full_name"])) {
    const ids = batch.getChild("author_id");
    const names = batch.getChild("author_full_name");
    for (let row = 0; row < batch.numRows; row++) {
      const id = String(ids?.get(row));
      if (!authors.has(id)) authors.set(id, { id, fullName: String(names?.get(row)) });
    }
  }
}

/** Builds the missing or outdated indexes of a non-empty table, then compacts and prunes it. */
export async function optimizeTable(open: OpenTable, settings: ResolvedLanceDbOptions): Promise<void> {
  const rows = await open.table.countRows();
  if (rows === 0) return;
  Object.assign(open.indexes, await readIndexState(open.table));
  await createScalarIndexes(open.table, open.indexes);
  if (!open.indexes.fullText || fullTextIndexDiffers(open.indexes, settings.fullText)) {
    await createFullTextIndex(open.table, open.indexes, settings.fullText);
  }
  if (!open.indexes.vector && rows >= settings.ann.threshold) {
    await createVectorIndex(open.table, open.indexes, rows, settings.ann);
  }
  // Compacts fragments, folds new rows into every index and prunes old versions.
  await open.table.optimize({
    cleanupOlderThan: new Date(Date.now() - settings.pruneVersionsOlderThanMs),
  });
}
