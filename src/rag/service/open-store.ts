/**
 * The store and the query embedder of a RAG service (`serve` and `serve-rag`), registered on the
 * command's resource stack. With `--embedder auto`, the embedder is the one the store was built with.
 */

import { httpEmbedderOptions } from "../../embedding/http/settings.js";
import { createEmbedder } from "../../embedding/index.js";
import { AppError } from "../../errors/index.js";
import type { ResourceStack } from "../../runtime/index.js";
import { openVectorStore } from "../../vector-store/index.js";
import type { OpenVectorStoreOptions } from "../../vector-store/open.js";
import type { RagServiceSettings } from "./settings.js";

export async function openStoreAndEmbedder(
  resources: ResourceStack,
  settings: RagServiceSettings,
  storeOptions: OpenVectorStoreOptions,
  log?: (message: string) => void,
) {
  const store = resources.use("the vector store", await openVectorStore(settings.store, storeOptions));
  const storeEmbedderId = (await store.readMetadata())?.fingerprint.embedder.id;
  const embedder = resources.use(
    "the embedder",
    await createEmbedder(settings.embedder, {
      ...(settings.cacheDir === undefined ? {} : { cacheDir: settings.cacheDir }),
      ...(settings.registry === undefined ? {} : { registry: settings.registry }),
      ...(storeEmbedderId === undefined ? {} : { storeEmbedderId }),
      http: httpEmbedderOptions(settings),
      ...(log === undefined ? {} : { log }),
    }),
  );
  return { store, embedder, storeEmbedderId };
}

/**
 * `serve --no-ingest` on an empty store (no preprocessing metadata): said as soon as the store is
 * open, before the model loads, with what to do.
 */
export function emptyStoreWithoutIngestError(location: string): AppError {
  return new AppError(
    "configuration_error",
    `the store at ${location} is empty and --no-ingest (LLM_TWIN_NO_INGEST) is set: run 'llm-twin ingest <documents> --store ${location}' first, or drop --no-ingest to ingest --sample-data on start`,
  );
}
