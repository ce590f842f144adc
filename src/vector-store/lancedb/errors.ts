/** LanceDB failures as AppErrors with a stable code, and one retry on reopened handles. */
import { AppError } from "../../errors/app-error.js";
import type { VectorStore } from "../port.js";

/**
 * The store with every method's non-AppError failures (I/O, LanceDB errors) turned into
 * AppError("dependency_unavailable"), the original kept as `cause`. Reads that fail that way
 * (a table replaced, corrupted or dropped under a running service) call `forgetHandles` and run
 * once more on freshly opened tables, so a restored or re-published store answers the very next
 * request without a restart.
 */
export function withStoreErrors(store: VectorStore, forgetHandles: () => void = () => {}): VectorStore {
  const guard =
    <A extends unknown[], R>(what: string, method: (...args: A) => Promise<R>, retry = false) =>
    async (...args: A): Promise<R> => {
      try {
        return await method.apply(store, args);
      } catch (error) {
        if (!recoverable(error)) throw error;
        forgetHandles();
        if (retry) {
          try {
            return await method.apply(store, args);
          } catch (second) {
            if (!recoverable(second)) throw second;
            forgetHandles();
            throw asStoreError(what, store.location, second);
          }
        }
        throw asStoreError(what, store.location, error);
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
    startRebuild: guard("rebuild", store.startRebuild),
    check: guard("check", store.check, true),
    upsert: guard("upsert", store.upsert),
    chunkIdsByDocument: guard("chunk id lookup", store.chunkIdsByDocument, true),
    deleteChunks: guard("delete", store.deleteChunks),
    deleteDocument: guard("delete", store.deleteDocument),
    search: guard("search", store.search, true),
    listAuthors: guard("author listing", store.listAuthors, true),
    count: guard("count", store.count, true),
    ...(store.dataVersion === undefined ? {} : { dataVersion: guard("version read", store.dataVersion, true) }),
    optimize: guard("optimize", store.optimize),
    [Symbol.asyncDispose]: guard("close", store[Symbol.asyncDispose]),
  };
}

/** Failures of the store itself (not of the request): LanceDB errors and tables that would not open. */
function recoverable(error: unknown): boolean {
  return !(error instanceof AppError) || error.code === "dependency_unavailable";
}

function asStoreError(what: string, location: string, error: unknown): AppError {
  if (error instanceof AppError) return error;
  return new AppError("dependency_unavailable", `LanceDB ${what} failed on ${location}.`, {
    cause: error,
    retryable: false,
  });
}
