/** Connecting to the store's directory and describing its opened tables. */
import * as lancedb from "@lancedb/lancedb";
import { AppError } from "../../errors/app-error.js";
import { type IndexState, readIndexState } from "./indexes.js";
import type { ResolvedLanceDbOptions } from "./options.js";
import { vectorDimensionsOf } from "./rows.js";

/** An opened table of one category: its handle, vector dimensions and index state. */
export type OpenTable = { table: lancedb.Table; dimensions: number; indexes: IndexState };

export async function connectTo(settings: ResolvedLanceDbOptions): Promise<lancedb.Connection> {
  try {
    return await lancedb.connect(settings.directory, { readConsistencyInterval: settings.readConsistencySeconds });
  } catch (error) {
    throw new AppError("dependency_unavailable", `Cannot open the LanceDB store at ${settings.directory}.`, {
      cause: error,
    });
  }
}

/** The dimensions and index state of `table` of the store at `location`. */
export async function describeTable(table: lancedb.Table, location: string): Promise<OpenTable> {
  const dimensions = vectorDimensionsOf(await table.schema());
  if (dimensions === undefined) {
    throw new AppError("internal_error", `Table ${table.name} in ${location} has no vector column.`);
  }
  return { table, dimensions, indexes: await readIndexState(table) };
}
