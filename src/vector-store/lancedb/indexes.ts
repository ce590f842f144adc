/**
 * Index management for one LanceDB chunk table: scalar indexes for filters and lookups, the
 * full-text (BM25) index for lexical search and the HNSW_SQ vector index for ANN search.
 * Rows written after an index was built are still searched (LanceDB scans unindexed rows);
 * `optimize` folds them into the indexes.
 */
import { Index, type Table } from "@lancedb/lancedb";
import type { FullTextSettings } from "./options.js";
import { TEXT_COLUMN, VECTOR_COLUMN } from "./rows.js";

export type AnnIndexOptions = {
  /** Build the vector index once a table has at least this many rows. */
  threshold: number;
  /** HNSW graph degree. */
  m: number;
  /** HNSW construction beam width. */
  efConstruction: number;
  /** Rows per IVF partition (each partition is its own HNSW graph). */
  rowsPerPartition: number;
};

export type IndexState = {
  fullText: boolean;
  /** Tokenizer settings of the existing full-text index, as LanceDB reports them. */
  fullTextDetails?: Record<string, unknown>;
  vector: boolean;
  scalar: Set<string>;
};

/** Scalar indexes: author_id for filtered search, document_id and id for lookups and merge-insert. */
const SCALAR_INDEXES: readonly { column: string; kind: "bitmap" | "btree" }[] = [
  { column: "author_id", kind: "bitmap" },
  { column: "document_id", kind: "btree" },
  { column: "id", kind: "btree" },
];

export async function readIndexState(table: Table): Promise<IndexState> {
  const indices = await table.listIndices();
  const state: IndexState = { fullText: false, vector: false, scalar: new Set() };
  for (const index of indices) {
    const column = index.columns[0];
    if (column === TEXT_COLUMN && index.indexType.toUpperCase() === "FTS") {
      state.fullText = true;
      if (typeof index.indexDetails === "object" && index.indexDetails !== null) {
        state.fullTextDetails = index.indexDetails as Record<string, unknown>;
      }
    } else if (column === VECTOR_COLUMN) state.vector = true;
    else if (column !== undefined) state.scalar.add(column);
  }
  return state;
}

/** True when the existing full-text index was built with other settings than `settings`. */
export function fullTextIndexDiffers(state: IndexState, settings: FullTextSettings): boolean {
  const details = state.fullTextDetails;
  if (!state.fullText || details === undefined) return false;
  const expected: Record<string, unknown> = {
    language: settings.language,
    stem: settings.stem,
    remove_stop_words: settings.removeStopWords,
    ascii_folding: settings.asciiFolding,
  };
  return Object.entries(expected).some(([key, value]) => key in details && details[key] !== value);
}

export async function createFullTextIndex(table: Table, state: IndexState, settings: FullTextSettings): Promise<void> {
  // Defaults: English stemming and stop words, lower-casing and ASCII folding — a BM25 setup
  // close to the BEIR BM25 baseline's (Elasticsearch's English analyzer).
  await table.createIndex(TEXT_COLUMN, {
    config: Index.fts({
      withPosition: false,
      baseTokenizer: "simple",
      lowercase: true,
      ...settings,
    }),
    replace: true,
  });
  state.fullText = true;
  state.fullTextDetails = {
    language: settings.language,
    stem: settings.stem,
    remove_stop_words: settings.removeStopWords,
    ascii_folding: settings.asciiFolding,
  };
}

export async function createScalarIndexes(table: Table, state: IndexState): Promise<void> {
  for (const { column, kind } of SCALAR_INDEXES) {
    if (state.scalar.has(column)) continue;
    await table.createIndex(column, { config: kind === "bitmap" ? Index.bitmap() : Index.btree(), replace: true });
    state.scalar.add(column);
  }
}

export async function createVectorIndex(table: Table, state: IndexState, rows: number, ann: AnnIndexOptions) {
  await table.createIndex(VECTOR_COLUMN, {
    config: Index.hnswSq({
      distanceType: "cosine",
      m: ann.m,
      efConstruction: ann.efConstruction,
      numPartitions: Math.max(1, Math.ceil(rows / ann.rowsPerPartition)),
    }),
    replace: true,
  });
  state.vector = true;
}
