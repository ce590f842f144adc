/** Shared helpers of the ingestion tests: temp folders, the real articles, store snapshots. */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DATA_CATEGORIES } from "../../src/domain/index.js";
import type { Embedder } from "../../src/embedding/index.js";
import { readRawDocuments } from "../../src/ingestion/readers/index.js";
import { chunkDocument, cleanDocument } from "../../src/preprocessing/index.js";
import { categoryCollection } from "../../src/vector-store/generations.js";
import { METADATA_FILE_NAME } from "../../src/vector-store/lancedb/store.js";
import { readMetadataDocument } from "../../src/vector-store/metadata-file.js";

export async function temporaryDirectory(prefix: string): Promise<{ path: string; remove(): Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), `llm-twin-${prefix}-`));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

type ArticleRecord = {
  _id: string;
  content: { Title: string; Subtitle: string | null; Content: string };
  [key: string]: unknown;
};

export async function readArticleRecords(path: string): Promise<ArticleRecord[]> {
  return JSON.parse(await readFile(path, "utf8")) as ArticleRecord[];
}

export async function writeJson(path: string, value: unknown): Promise<string> {
  await writeFile(path, JSON.stringify(value));
  return path;
}

/** What the chunker produces for an input, independently of the pipeline: chunk ids by document. */
export async function expectedChunks(source: string, embedder: Embedder): Promise<Map<string, string[]>> {
  const expected = new Map<string, string[]>();
  for await (const result of readRawDocuments(source)) {
    if (!result.ok) continue;
    const cleaned = cleanDocument(result.document, { sourceHash: result.sourceHash });
    expected.set(
      result.document.id,
      chunkDocument(cleaned, embedder).map((chunk) => chunk.id),
    );
  }
  return expected;
}

export type StoredRow = { id: string; documentId: string; text: string; vector: number[] };

/** Every row of every category table of a LanceDB store folder, sorted by id (for exact comparison). */
export async function snapshotLanceDb(directory: string): Promise<StoredRow[]> {
  const lancedb = await import("@lancedb/lancedb");
  const connection = await lancedb.connect(directory);
  const names = new Set(await connection.tableNames());
  // The live tables are those of the generation the metadata file points to (after --recreate).
  const generation = (await readMetadataDocument(join(directory, METADATA_FILE_NAME)))?.generation;
  const rows: StoredRow[] = [];
  for (const category of DATA_CATEGORIES) {
    const name = categoryCollection(category, generation);
    if (!names.has(name)) continue;
    const table = await connection.openTable(name);
    const records = (await table.query().select(["id", "document_id", "text", "vector"]).toArray()) as {
      id: string;
      document_id: string;
      text: string;
      vector: ArrayLike<number>;
    }[];
    for (const record of records) {
      rows.push({
        id: record.id,
        documentId: record.document_id,
        text: record.text,
        vector: Array.from(record.vector),
      });
    }
    table.close();
  }
  connection.close();
  return rows.sort((left, right) => left.id.localeCompare(right.id));
}
