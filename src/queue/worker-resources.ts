/**
 * What the ingestion worker opens for its jobs: one store per URI, one embedder per spec, one
 * document ingester per pair, shared between jobs and released together (src/queue/worker.ts owns
 * them through its resource stack).
 */
import type { CreateEmbedderOptions, Embedder } from "../embedding/index.js";
import { createEmbedder } from "../embedding/index.js";
import { AppError } from "../errors/index.js";
import { createDocumentIngester, type DocumentIngester } from "../ingestion/index.js";
import { createFingerprint } from "../preprocessing/index.js";
import type { PreprocessingFingerprint, VectorStore } from "../vector-store/index.js";
import { openVectorStore } from "../vector-store/index.js";

type OptimizeEvent = { type: "optimized"; store: string; durationMs: number } | { type: "error"; message: string };

/** Longest reason kept for logs and dead letters (native errors can carry pages of context). */
const MAX_REASON_LENGTH = 500;

export function describeError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const firstLine = (message.split("\n")[0] ?? "").trim();
  const short = firstLine.length > MAX_REASON_LENGTH ? `${firstLine.slice(0, MAX_REASON_LENGTH)}…` : firstLine;
  return error instanceof AppError ? `${short} [${error.code}]` : short;
}

/** The promise cached under `key`, opened on first use; one that rejects is dropped (the next call retries). */
function shared<T>(cache: Map<string, Promise<T>>, key: string, open: () => Promise<T>): Promise<T> {
  let entry = cache.get(key);
  if (!entry) {
    entry = open();
    entry.catch(() => cache.delete(key));
    cache.set(key, entry);
  }
  return entry;
}

/** Opens resources once per store URI / embedder spec and shares them between jobs. */
export function createWorkerResources(embedderOptions: Pick<CreateEmbedderOptions, "cacheDir" | "http">) {
  const embedders = new Map<string, Promise<{ embedder: Embedder; fingerprint: PreprocessingFingerprint }>>();
  const stores = new Map<string, Promise<VectorStore>>();
  const ingesters = new Map<string, Promise<DocumentIngester>>();
  const embedderFor = (spec: string) =>
    shared(embedders, spec, () =>
      createEmbedder(spec, embedderOptions).then((embedder) => ({
        embedder,
        fingerprint: createFingerprint(embedder),
      })),
    );
  const storeFor = (uri: string) => shared(stores, uri, () => openVectorStore(uri));
  /** One per store and embedder: the store's fingerprint is checked once, not per job. */
  const ingesterFor = (uri: string, spec: string) =>
    shared(ingesters, `${uri}\u0000${spec}`, () =>
      Promise.all([storeFor(uri), embedderFor(spec)]).then(([store, { embedder }]) =>
        createDocumentIngester({ store, embedder }),
      ),
    );
  /** Optimizes every store changed since its last optimize; one round at a time. */
  let optimizing: Promise<void> | undefined;
  const optimizeChanged = (report: (event: OptimizeEvent) => void): Promise<void> => {
    optimizing ??= (async () => {
      for (const [key, entry] of ingesters) {
        const ingester = await entry.catch(() => undefined);
        if (ingester === undefined || !ingester.pendingOptimize) continue;
        const started = performance.now();
        try {
          if (await ingester.optimize())
            report({
              type: "optimized",
              store: key.split("\u0000")[0] as string,
              durationMs: Math.round(performance.now() - started),
            });
        } catch (error) {
          report({ type: "error", message: `optimize failed (retried later): ${describeError(error)}` });
        }
      }
    })().finally(() => {
      optimizing = undefined;
    });
    return optimizing;
  };
  let released: Promise<void> | undefined;
  const release = () => (released ??= releaseAll());
  const releaseAll = async () => {
    await optimizing;
    await Promise.allSettled([...stores.values()].map(async (store) => (await store)[Symbol.asyncDispose]()));
    await Promise.allSettled(
      [...embedders.values()].map(async (entry) => (await entry).embedder[Symbol.asyncDispose]()),
    );
  };
  return { embedderFor, storeFor, ingesterFor, optimizeChanged, release };
}
