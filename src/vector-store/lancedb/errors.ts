/** LanceDB failures as AppErrors with a stable code. */
import { AppError } from "../../errors/app-error.js";
import type { VectorStore } from "../port.js";

/**
 * The store with every method's non-AppError failures (I/O, LanceDB errors) turned into
 * AppError("dependency_unavailable"), the original kept as `cause`.
 */
export function withStoreErrors(store: VectorStore): VectorStore {
  const guard =
    <A extends unknown[], R>(what: string, method: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      try {
        return await method.apply(store, args);
      } catch (error) {
        if (error instanceof AppError) throw error;
        throw new AppError("dependency_unavailable", `LanceDB ${what} failed on ${store.location}.`, {
          cause: error,
          retryable: false,
        });
      }
    };
  return {
    kind: store.kind,
    location: store.location,
    supportsLexical: store.supportsLexical,
    readMetadata: guard("metadata read", store.readMetadata),
    writeMetadata: guard("metadata write", store.writeMetadata),
    ensureCollections: guard("table creation", store.ensureCollections),
    drop: guard("drop", store.drop),
    upsert: guard("upsert", store.upsert),
    chunkIdsByDocument: guard("chunk id lookup", store.chunkIdsByDocument),
    deleteChunks: guard("delete", store.deleteChunks),
    deleteDocument: guard("delete", store.deleteDocument),
    search: guard("search", store.search),
    listAuthors: guard("author listing", store.listAuthors),
    count: guard("count", store.count),
    optimize: guard("optimize", store.optimize),
    close: guard("close", store.close),
    [Symbol.asyncDispose]: guard("close", store.close),
  };
}
