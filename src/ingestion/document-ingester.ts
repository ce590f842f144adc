/**
 * Per-document ingestion for long-running consumers (the BullMQ worker): the store's fingerprint
 * is checked once, then each document is cleaned, chunked, diffed against the store, embedded
 * (missing chunks only), upserted by id and its stale chunks deleted — the same steps and
 * guarantees as `ingest`, without `ingest`'s per-run costs. Index building (store.optimize) is
 * NOT done per document: the caller runs `optimize()` when it sees fit (the queue worker: when the
 * queue drains, and at most every `optimizeIntervalMs` while busy). Rows written since are
 * searchable meanwhile (unindexed rows are scanned).
 *
 * Chunks are merged by id, never appended: two workers may run the same document at once (a job
 * whose lock expired is retried while the first attempt still runs) and must not duplicate it.
 */
import type { Embedder } from "../embedding/index.js";
import { AppError } from "../errors/index.js";
import { createFingerprint, type PreprocessingParameters } from "../preprocessing/index.js";
import type { VectorStore } from "../vector-store/index.js";
import { prepareStore } from "./fingerprint-guard.js";
import { planWindow } from "./plan.js";
import { prepareDocument } from "./prepare-document.js";
import type { ReadResult } from "./readers/index.js";

export type DocumentIngestResult = {
  /** Why the document was rejected (invalid record); nothing was written then. */
  skipped?: string;
  chunksWritten: number;
  chunksUnchanged: number;
  chunksDeleted: number;
};

export type DocumentIngester = {
  ingestDocument(result: ReadResult, options?: { signal?: AbortSignal }): Promise<DocumentIngestResult>;
  /** True when chunks were written or deleted since the last optimize(). */
  readonly pendingOptimize: boolean;
  /**
   * Builds or refreshes the store's indexes and records the update time, when anything changed
   * since the last call; concurrent calls share one run. On failure the change stays pending.
   */
  optimize(): Promise<boolean>;
};

export async function createDocumentIngester(options: {
  store: VectorStore;
  embedder: Embedder;
  parameters?: PreprocessingParameters;
}): Promise<DocumentIngester> {
  const { store, embedder, parameters } = options;
  const fingerprint = createFingerprint(embedder, parameters);
  const prepared = await prepareStore(store, fingerprint, { recreate: false });
  let pending = false;
  let running: Promise<boolean> | undefined;

  const ingestDocument = async (
    result: ReadResult,
    { signal }: { signal?: AbortSignal } = {},
  ): Promise<DocumentIngestResult> => {
    if (!result.ok) return { skipped: result.reason, chunksWritten: 0, chunksUnchanged: 0, chunksDeleted: 0 };
    if (signal?.aborted) throw new AppError("aborted", "ingestion was aborted", { cause: signal.reason });
    const preparedDocument = prepareDocument(result.document, result.sourceHash, embedder, parameters);
    if (!preparedDocument.ok) {
      return { skipped: preparedDocument.reason, chunksWritten: 0, chunksUnchanged: 0, chunksDeleted: 0 };
    }
    const plan = await planWindow(store, [preparedDocument.document]);
    const signalOption = signal === undefined ? {} : { signal };
    let chunksWritten = 0;
    if (plan.toWrite.length > 0) {
      const vectors = await embedder.embed(
        plan.toWrite.map((chunk) => chunk.text),
        signalOption,
      );
      await store.upsert(
        plan.toWrite.map((chunk, position) => ({ ...chunk, vector: vectors[position] as Float32Array })),
        signalOption,
      );
      chunksWritten = plan.toWrite.length;
      pending = true;
    }
    let chunksDeleted = 0;
    for (const [category, ids] of plan.stale) {
      await store.deleteChunks(category, ids);
      chunksDeleted += ids.length;
      pending = true;
    }
    return { chunksWritten, chunksUnchanged: plan.chunksUnchanged, chunksDeleted };
  };

  const optimize = (): Promise<boolean> => {
    if (running !== undefined) return running;
    if (!pending) return Promise.resolve(false);
    pending = false;
    running = (async () => {
      try {
        await store.optimize();
        await store.writeMetadata({ ...prepared.metadata, updatedAt: new Date().toISOString() });
        return true;
      } catch (error) {
        pending = true;
        throw error;
      } finally {
        running = undefined;
      }
    })();
    return running;
  };

  return {
    ingestDocument,
    get pendingOptimize() {
      return pending;
    },
    optimize,
  };
}
