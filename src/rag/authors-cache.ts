/** The store's authors, cached for a few seconds (self-query needs them on every request). */
import type { Author } from "../domain/index.js";
import type { VectorStore } from "../vector-store/index.js";

export function createAuthorsCache(store: VectorStore, ttlMs: number): (signal: AbortSignal) => Promise<Author[]> {
  let cached: { authors: Author[]; at: number } | undefined;
  let pending: Promise<Author[]> | undefined;
  return async () => {
    if (cached !== undefined && Date.now() - cached.at < ttlMs) return cached.authors;
    pending ??= store
      .listAuthors()
      .then((authors) => {
        cached = { authors, at: Date.now() };
        return authors;
      })
      .finally(() => {
        pending = undefined;
      });
    return pending;
  };
}
