import type * as lancedb from "@lancedb/lancedb";
import type { IndexState } from "./indexes.js";

/** An opened table of one category: its handle, vector dimensions and index state. */
export type OpenTable = { table: lancedb.Table; dimensions: number; indexes: IndexState };
