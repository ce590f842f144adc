/**
 * What a window of documents needs: for each document, the chunks whose ids the store lacks
 * (to embed and upsert) and the stored ids the new chunking no longer produces (to delete, only
 * after the upsert succeeded). Chunk ids hash document id, position and text, so an id already
 * stored is exactly this chunk: it costs no embedding.
 */
import type { Chunk, DataCategory } from "../domain/index.js";
import type { VectorStore } from "../vector-store/index.js";

export type PreparedDocument = { category: DataCategory; documentId: string; chunks: Chunk[] };

export type WindowPlan = {
  toWrite: Chunk[];
  stale: Map<DataCategory, string[]>;
  documentsUnchanged: number;
  chunksUnchanged: number;
};

/** The plan when the store was empty at the start of this run (created or recreated): everything is new. */
export function planForEmptyStore(documents: readonly PreparedDocument[]): WindowPlan {
  return {
    toWrite: documents.flatMap((document) => document.chunks),
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
  const plan: WindowPlan = { toWrite: [], stale: new Map(), documentsUnchanged: 0, chunksUnchanged: 0 };
  for (const document of documents) {
    const stored = storedByCategory.get(document.category)?.get(document.documentId) ?? new Set<string>();
    const fresh = new Set(document.chunks.map((chunk) => chunk.id));
    let unchanged = 0;
    for (const chunk of document.chunks) {
      if (stored.has(chunk.id)) unchanged++;
      else plan.toWrite.push(chunk);
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
  return plan;
}
