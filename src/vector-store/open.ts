/**
 * openVectorStore: the one entry point that turns a store URI into an adapter.
 * Adapters are imported on demand, so a Qdrant user never loads LanceDB's native module.
 * Qdrant options not given explicitly come from LLM_TWIN_QDRANT_* variables (see qdrant/options.ts).
 */
import { stat } from "node:fs/promises";
import { dirname, resolve } from "node:path";
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
    await assertFolderOrAbsent(location.directory);
    // LanceDB reads its log level once, when its native module loads (the import below): set
    // later, as the adapter used to, it has no effect and every table creation and query warned.
    process.env.LANCEDB_LOG ??= "error";
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

/**
 * A LanceDB store is a folder: a file at its path (or at a parent's) is a user's mistake to name
 * before LanceDB turns it into a native warning and an unreadable-metadata error.
 */
async function assertFolderOrAbsent(directory: string): Promise<void> {
  for (let path = resolve(directory); ; path = dirname(path)) {
    const found = await stat(path).catch(() => undefined);
    if (found !== undefined) {
      if (found.isDirectory()) return;
      const at = path === resolve(directory) ? "" : `: ${path}`;
      throw new AppError(
        "configuration_error",
        `store path ${directory}${at} is a file, expected a folder: give --store lancedb:<folder> (LLM_TWIN_STORE)`,
      );
    }
    if (dirname(path) === path) return;
  }
}
