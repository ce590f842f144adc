/**
 * What a window of documents needs: for each document, the chunks whose ids the store lacks
 * (to embed and upsert) and the stored ids the new chunking no longer produces (to delete, only
 * after the upsert succeeded). Chunk ids hash document id, position and text, so an id already
 * stored is exactly this chunk: it costs no embedding.
 */
import type { Chunk, DataCategory, EmbeddedChunk } from "../domain/index.js";
import type { VectorStore } from "../vector-store/index.js";

/** A document's chunks; those embedded by a preprocessing worker already carry their vector. */
export type PreparedDocument = { category: DataCategory; documentId: string; chunks: (Chunk | EmbeddedChunk)[] };

export type WindowPlan = {
  toWrite: (Chunk | EmbeddedChunk)[];
  /**
   * How many of the first toWrite chunks belong to documents the store holds no chunk of (listed
   * first): their ids are proven absent, so they may be appended instead of merged by id.
   */
  knownNew: number;
  stale: Map<DataCategory, string[]>;
  documentsUnchanged: number;
  chunksUnchanged: number;
};

/** The plan when the store was empty at the start of this run (created or recreated): everything is new. */
export function planForEmptyStore(documents: readonly PreparedDocument[]): WindowPlan {
  const toWrite = documents.flatMap((document) => document.chunks);
  return {
    toWrite,
    knownNew: toWrite.length,
    stale: new Map(),
    documentsUnchanged: 0,
    chunksUnchanged: 0,
  };
}

export async function planWindow(store: VectorStore, documents: readonly PreparedDocument[]): Promise<WindowPlan> {
  const idsByCategory = new Map<DataCategory, string[]>();
  for (const document of documents) {
    const ids = idsByCategory.get(document.category) ?? [];
    ids.push(document.documentId);
    idsByCategory.set(document.category, ids);
  }
  const storedByCategory = new Map<DataCategory, Map<string, Set<string>>>();
  await Promise.all(
    [...idsByCategory].map(async ([category, ids]) => {
      storedByCategory.set(category, await store.chunkIdsByDocument(category, ids));
    }),
  );
  const plan: WindowPlan = { toWrite: [], knownNew: 0, stale: new Map(), documentsUnchanged: 0, chunksUnchanged: 0 };
  const changed: (Chunk | EmbeddedChunk)[] = [];
  for (const document of documents) {
    const stored = storedByCategory.get(document.category)?.get(document.documentId);
    if (stored === undefined) {
      plan.toWrite.push(...document.chunks);
      if (document.chunks.length === 0) plan.documentsUnchanged++;
      continue;
    }
    const fresh = new Set(document.chunks.map((chunk) => chunk.id));
    let unchanged = 0;
    for (const chunk of document.chunks) {
      if (stored.has(chunk.id)) unchanged++;
      else changed.push(chunk);
    }
    const staleIds = [...stored].filter((id) => !fresh.has(id));
    if (staleIds.length > 0) {
      const list = plan.stale.get(document.category) ?? [];
      list.push(...staleIds);
      plan.stale.set(document.category, list);
    }
    plan.chunksUnchanged += unchanged;
    if (unchanged === document.chunks.length && staleIds.length === 0) plan.documentsUnchanged++;
  }
  plan.knownNew = plan.toWrite.length;
  plan.toWrite.push(...changed);
  return plan;
}
