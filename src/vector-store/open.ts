/**
 * openVectorStore: the one entry point that turns a store URI into an adapter.
 * Adapters are imported on demand, so a Qdrant user never loads LanceDB's native module.
 */
import type { LanceDbStoreOptions } from "./lancedb/options.js";
import type { VectorStore } from "./port.js";
import type { QdrantStoreOptions } from "./qdrant/options.js";
import { DEFAULT_STORE_URI, parseStoreUri } from "./uri.js";

export const QDRANT_API_KEY_VARIABLE = "LLM_TWIN_QDRANT_API_KEY";

export type OpenVectorStoreOptions = {
  lancedb?: Omit<LanceDbStoreOptions, "directory">;
  qdrant?: Omit<QdrantStoreOptions, "url">;
  /** Where to read LLM_TWIN_QDRANT_API_KEY from; default process.env. */
  env?: Readonly<Record<string, string | undefined>>;
};

/** Opens the store at `uri` (`lancedb:<dir>`, a bare directory, or `qdrant:<http(s) url>`). */
export async function openVectorStore(
  uri: string = DEFAULT_STORE_URI,
  options: OpenVectorStoreOptions = {},
): Promise<VectorStore> {
  const location = parseStoreUri(uri);
  if (location.kind === "lancedb") {
    const { openLanceDbStore } = await import("./lancedb/store.js");
    return openLanceDbStore({ ...options.lancedb, directory: location.directory });
  }
  const { openQdrantStore } = await import("./qdrant/store.js");
  const env = options.env ?? process.env;
  const apiKey = options.qdrant?.apiKey ?? nonEmpty(env[QDRANT_API_KEY_VARIABLE]);
  return openQdrantStore({ ...options.qdrant, url: location.url, ...(apiKey === undefined ? {} : { apiKey }) });
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim().length === 0 ? undefined : value.trim();
}
