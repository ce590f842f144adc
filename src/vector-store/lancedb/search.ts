/**
 * The search paths of the LanceDB store: dense (memory scan or ANN), lexical (full-text index)
 * and hybrid (both as ids, fused, then the winners' rows).
 */
import * as lancedb from "@lancedb/lancedb";
import type { DataCategory } from "../../domain/index.js";
import { fuseHybrid } from "../fusion.js";
import type { SearchHit, SearchRequest } from "../port.js";
import type { validateSearchRequest } from "../request-validation.js";
import { createFullTextIndex, readIndexState } from "./indexes.js";
import type { MemoryVectorIndex } from "./memory-index.js";
import type { OpenTable } from "./open-table.js";
import type { ResolvedLanceDbOptions } from "./options.js";
import { denseRows, memoryDenseRows, rowsById } from "./queries.js";
import { CHUNK_COLUMNS, type ChunkRow, rowToChunk, TEXT_COLUMN } from "./rows.js";

type HybridSettings = ReturnType<typeof validateSearchRequest>;

/** What a search of one opened table needs from its store. */
export type SearchContext = {
  open: OpenTable;
  settings: ResolvedLanceDbOptions;
  /** The table's memory index when the candidates are few enough to scan it exactly. */
  scanMemory: MemoryVectorIndex | undefined;
  /** Runs `work` in the category's write queue. */
  serialize: <T>(category: DataCategory, work: () => Promise<T>) => Promise<T>;
};

/** Runs `request` against one opened table (validated, dimensions checked, non-empty). */
export async function searchOpenTable(
  context: SearchContext,
  request: SearchRequest,
  hybrid: HybridSettings,
  where: string | undefined,
): Promise<SearchHit[]> {
  const { open, settings, scanMemory: memory } = context;
  const authorId = request.filter?.authorId;
  const category = request.category;
  if (request.mode === "dense") {
    const vector = request.vector as Float32Array;
    const fromMemory =
      memory !== undefined ? await memoryDenseRows(open.table, memory, vector, request.limit, authorId) : undefined;
    return (
      fromMemory?.map(({ row, score }) => ({ chunk: rowToChunk(row, category), score })) ??
      (await denseRows(open.table, settings.ann, vector, request.limit, where, CHUNK_COLUMNS)).map((row) => ({
        chunk: rowToChunk(row, category),
        score: 1 - (row._distance ?? 1),
      }))
    );
  }
  if (request.mode === "lexical") {
    const rows = await lexicalRows(context, category, request.text as string, request.limit, where, CHUNK_COLUMNS);
    return rows.map((row) => ({ chunk: rowToChunk(row, category), score: row._score ?? 0 }));
  }
  // Candidates as ids only (the text column is what costs), fused, then the winners' rows.
  const [dense, lexical] = await Promise.all([
    memory !== undefined
      ? memory.search(request.vector as Float32Array, hybrid.candidates, authorId)
      : denseRows(open.table, settings.ann, request.vector as Float32Array, hybrid.candidates, where, ["id"]),
    lexicalRows(context, category, request.text as string, hybrid.candidates, where, ["id"]),
  ]);
  const fused = fuseHybrid(
    // Cosine similarity on both paths: the memory scan's dot product, LanceDB's 1 − cosine distance.
    dense.map((row) => ({ id: row.id, score: "rowId" in row ? row.score : 1 - (row._distance ?? 1) })),
    lexical.map((row) => ({ id: row.id, score: row._score ?? 0 })),
    hybrid,
  ).slice(0, request.limit);
  const winners = fused.map(({ id }) => id);
  const rows =
    winners.length === 0
      ? new Map<string, ChunkRow>()
      : ((memory !== undefined ? memory.rowsOf(winners) : undefined) ?? (await rowsById(open.table, winners)));
  return fused.flatMap(({ id, score }) => {
    const row = rows.get(id);
    return row === undefined ? [] : [{ chunk: rowToChunk(row, category), score }];
  });
}

/** Full-text matches, building the full-text index first when the table has rows but no index. */
async function lexicalRows(
  context: SearchContext,
  category: DataCategory,
  text: string,
  limit: number,
  where: string | undefined,
  columns: readonly string[],
): Promise<ChunkRow[]> {
  const { open, settings } = context;
  if (!open.indexes.fullText) {
    await context.serialize(category, async () => {
      // Another process (an ingest run) may have built it since this handle looked.
      Object.assign(open.indexes, await readIndexState(open.table));
      if (!open.indexes.fullText && (await open.table.countRows()) > 0) {
        await createFullTextIndex(open.table, open.indexes, settings.fullText);
      }
    });
    if (!open.indexes.fullText) return [];
  }
  let query = open.table
    .query()
    .fullTextSearch(new lancedb.MatchQuery(text, TEXT_COLUMN, { operator: lancedb.Operator.Or }))
    // `_score` named in the projection: Lance warns on stderr for every search without it.
    .select([...columns, "_score"])
    .limit(limit);
  if (where !== undefined) query = query.where(where);
  return (await query.toArray()) as ChunkRow[];
}
