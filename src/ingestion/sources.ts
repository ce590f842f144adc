/**
 * Which documents each input ("source") put in the store, kept in the store's metadata so that
 * `ingest --prune` can delete the documents a source no longer holds without touching those of
 * other sources. A source is the input path, resolved to an absolute path.
 *
 * Crash safety (same rule as the rest of ingestion: any prefix of the work, rerun, converges):
 * 1. the upserts of this run are done before anything below;
 * 2. the source's record becomes old ∪ new (the new documents are known before any deletion);
 * 3. the chunks of absent documents are deleted (idempotent: a rerun deletes what is left);
 * 4. only then the record becomes exactly this input's documents.
 * Killed after 2 or during 3, a rerun finds the absent documents still recorded and deletes them.
 */
import { resolve } from "node:path";
import { DATA_CATEGORIES, type DataCategory } from "../domain/index.js";
import type { SourceDocuments, StoreMetadata, VectorStore } from "../vector-store/index.js";

/** Chunk ids deleted per call. */
const DELETE_BATCH = 1_000;

export function sourceKeyOf(source: string): string {
  return resolve(source);
}

/** The documents read in one run, per category. */
export class DocumentsSeen {
  readonly #ids = new Map<DataCategory, Set<string>>();

  add(category: DataCategory, documentId: string): void {
    let ids = this.#ids.get(category);
    if (ids === undefined) {
      ids = new Set();
      this.#ids.set(category, ids);
    }
    ids.add(documentId);
  }

  toRecord(): SourceDocuments {
    const record: SourceDocuments = {};
    for (const category of DATA_CATEGORIES) {
      const ids = this.#ids.get(category);
      if (ids !== undefined && ids.size > 0) record[category] = [...ids].sort();
    }
    return record;
  }
}

export type RecordSourceResult = { metadata: StoreMetadata; documentsPruned: number; chunksDeleted: number };

/** Records `current` as the documents of `sourceKey`; with `prune`, first deletes the ones it no longer holds. */
export async function recordSource(
  store: VectorStore,
  fallback: StoreMetadata,
  options: { sourceKey: string; current: SourceDocuments; prune: boolean; now?: () => Date },
): Promise<RecordSourceResult> {
  const now = options.now ?? (() => new Date());
  let metadata = (await store.readMetadata()) ?? fallback;
  const previous = metadata.sources?.[options.sourceKey] ?? {};
  const write = async (documents: SourceDocuments): Promise<void> => {
    if (sameDocuments(metadata.sources?.[options.sourceKey] ?? {}, documents)) return;
    metadata = {
      ...metadata,
      sources: { ...metadata.sources, [options.sourceKey]: documents },
      updatedAt: now().toISOString(),
    };
    await store.writeMetadata(metadata);
  };
  await write(union(previous, options.current));
  if (!options.prune) return { metadata, documentsPruned: 0, chunksDeleted: 0 };

  let documentsPruned = 0;
  let chunksDeleted = 0;
  const elsewhere = otherSources(metadata, options.sourceKey);
  for (const category of DATA_CATEGORIES) {
    const keep = new Set(options.current[category] ?? []);
    const absent = (previous[category] ?? []).filter((id) => !keep.has(id) && !elsewhere.has(`${category}/${id}`));
    if (absent.length === 0) continue;
    const stored = await store.chunkIdsByDocument(category, absent);
    const chunkIds = [...stored.values()].flatMap((ids) => [...ids]);
    for (let start = 0; start < chunkIds.length; start += DELETE_BATCH)
      await store.deleteChunks(category, chunkIds.slice(start, start + DELETE_BATCH));
    documentsPruned += stored.size;
    chunksDeleted += chunkIds.length;
  }
  await write(options.current);
  return { metadata, documentsPruned, chunksDeleted };
}

function union(left: SourceDocuments, right: SourceDocuments): SourceDocuments {
  const merged: SourceDocuments = {};
  for (const category of DATA_CATEGORIES) {
    const ids = new Set([...(left[category] ?? []), ...(right[category] ?? [])]);
    if (ids.size > 0) merged[category] = [...ids].sort();
  }
  return merged;
}

function sameDocuments(left: SourceDocuments, right: SourceDocuments): boolean {
  return DATA_CATEGORIES.every((category) => {
    const a = left[category] ?? [];
    const b = right[category] ?? [];
    return a.length === b.length && a.every((id, position) => id === b[position]);
  });
}

/** "category/id" of every document another source also holds: those are never pruned. */
function otherSources(metadata: StoreMetadata, sourceKey: string): Set<string> {
  const held = new Set<string>();
  for (const [key, documents] of Object.entries(metadata.sources ?? {})) {
    if (key === sourceKey) continue;
    for (const category of DATA_CATEGORIES) for (const id of documents[category] ?? []) held.add(`${category}/${id}`);
  }
  return held;
}
