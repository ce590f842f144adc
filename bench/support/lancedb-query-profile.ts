/**
 * Where a dense query's time goes in LanceDB (`npm run bench -- vs-langchain --profile`): the same
 * query on the same table in several shapes, interleaved round by round, median per shape.
 */
import { performance } from "node:perf_hooks";
import * as lancedb from "@lancedb/lancedb";
import { CHUNK_COLUMNS } from "../../src/vector-store/lancedb/rows.js";

export async function profileLanceDbQueries(
  directory: string,
  vector: Float32Array,
  authorId: string,
  rounds = 60,
): Promise<{ shape: string; medianMs: number }[]> {
  const fresh = await lancedb.connect(directory, { readConsistencyInterval: 0 });
  const relaxed = await lancedb.connect(directory);
  const table = await fresh.openTable("embedded_articles");
  const relaxedTable = await relaxed.openTable("embedded_articles");
  const empty = await fresh.openTable("embedded_posts");
  const columns = [...CHUNK_COLUMNS, "_distance"];
  const where = `author_id = '${authorId.replaceAll("'", "''")}'`;
  const rowIds = (await table.query().select(["id"]).withRowId().limit(10).toArray()).map(
    (row: { _rowid: bigint }) => row._rowid,
  );
  const shapes: Record<string, () => Promise<unknown>> = {
    "project before: cosine, ef + refine, all columns, read consistency 0": () =>
      table.vectorSearch(vector).distanceType("cosine").ef(100).refineFactor(5).select(columns).limit(10).toArray(),
    "same, no read-consistency check": () =>
      relaxedTable
        .vectorSearch(vector)
        .distanceType("cosine")
        .ef(100)
        .refineFactor(5)
        .select(columns)
        .limit(10)
        .toArray(),
    "same, without ef / refine": () =>
      table.vectorSearch(vector).distanceType("cosine").select(columns).limit(10).toArray(),
    "same, dot distance": () => table.vectorSearch(vector).distanceType("dot").select(columns).limit(10).toArray(),
    "same, ids only": () =>
      table.vectorSearch(vector).distanceType("cosine").select(["id", "_distance"]).limit(10).toArray(),
    "same, author filter (prefilter)": () =>
      table.vectorSearch(vector).distanceType("cosine").select(columns).where(where).limit(10).toArray(),
    "LangChain.js shape: L2, every column (vector too)": () =>
      relaxedTable.query().nearestTo(vector).limit(10).toArray(),
    "empty table, dense query": () =>
      empty.vectorSearch(vector).distanceType("cosine").select(columns).limit(10).toArray(),
    "10 rows by row id (takeRowIds)": () =>
      table
        .takeRowIds(rowIds)
        .select([...CHUNK_COLUMNS])
        .toArray(),
    "table.version()": () => table.version(),
  };
  const samples = new Map<string, number[]>();
  for (let round = 0; round < rounds; round++) {
    for (const [shape, run] of Object.entries(shapes)) {
      const started = performance.now();
      await run();
      if (round >= 5) samples.set(shape, [...(samples.get(shape) ?? []), performance.now() - started]);
    }
  }
  fresh.close();
  relaxed.close();
  return [...samples].map(([shape, values]) => {
    values.sort((left, right) => left - right);
    return { shape, medianMs: values[values.length >> 1] ?? Number.NaN };
  });
}
