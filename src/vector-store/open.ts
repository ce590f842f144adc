/**
 * openVectorStore: the one entry point that turns a store URI into an adapter.
 * Adapters are imported on demand, so a Qdrant user never loads LanceDB's native module.
 * Qdrant options not given explicitly come from LLM_TWIN_QDRANT_* variables (see qdrant/options.ts).
 */

import { AppError } from "../errors/app-error.js";
import type { LanceDbStoreOptions } from "./lancedb/options.js";
import type { VectorStore } from "./port.js";
import { QDRANT_OPTION_VARIABLES, type QdrantStoreOptions } from "./qdrant/options.js";
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
  const fromEnv: Partial<Record<keyof typeof QDRANT_OPTION_VARIABLES, number>> = {};
  for (const [option, variable] of Object.entries(QDRANT_OPTION_VARIABLES) as [
    keyof typeof QDRANT_OPTION_VARIABLES,
    string,
  ][]) {
    const text = nonEmpty(env[variable]);
    if (text === undefined) continue;
    const value = Number(text);
    if (!Number.isInteger(value)) {
      throw new AppError("configuration_error", `${variable} must be an integer, got "${text}".`);
    }
    fromEnv[option] = value;
  }
  return openQdrantStore({
    ...fromEnv,
    ...options.qdrant,
    url: location.url,
    ...(apiKey === undefined ? {} : { apiKey }),
  });
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim().length === 0 ? undefined : value.trim();
}
