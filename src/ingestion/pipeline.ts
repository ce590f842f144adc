/**
 * The feature pipeline: read → clean → chunk (with the embedder's tokenizer) → per document,
 * compare chunk ids with the store → embed only missing chunks → upsert → then delete stale ids.
 *
 * Guarantees, and how:
 * - Idempotent: chunk ids are deterministic, so a document whose ids are all stored costs nothing
 *   and a second run over unchanged input writes nothing.
 * - SIGKILL-safe: the store only ever moves from "old chunks" through "old ∪ some new" (upserts are
 *   by id, never duplicating) to "new" (stale ids deleted only after that document's upserts
 *   succeeded). A rerun recomputes the same ids and vectors, writes what is missing and deletes
 *   what is stale, so it converges to the uninterrupted result from any intermediate state.
 * - No mixing: the store's fingerprint is checked before anything is written (fingerprint-guard).
 * - `recreate` never empties the live store: everything is written to a rebuild beside it, which
 *   is published (readers switch in one step) only after the last write and optimize succeeded,
 *   and discarded on failure.
 * - Bounded memory and overlap: documents are processed in windows of ~batchSize chunks; while
 *   up to `concurrency` windows are being written (native LanceDB threads / network), the next
 *   window is read, cleaned, chunked and embedded — in a preprocessing worker thread when the
 *   embedder can be rebuilt there (the static embedder; option `workerThread`), else on the main thread.
 * - Chunks of documents the store holds nothing of (every document of a store this run created)
 *   are appended (`knownNew`) rather than merged by id: their ids are proven absent, and one
 *   LanceDB append commits atomically, so a kill never leaves half of one. Chunks of changed
 *   documents are merged by id.
 */
import type { Chunk, EmbeddedChunk } from "../domain/index.js";
import type { Embedder } from "../embedding/index.js";
import { AppError } from "../errors/index.js";
import { createFingerprint } from "../preprocessing/index.js";
import { type ArtifactWriter, createArtifactWriter } from "./artifacts/index.js";
import { prepareRebuild, prepareStore } from "./fingerprint-guard.js";
import { type PreparedDocument, planForEmptyStore, planWindow } from "./plan.js";
import { hasVector } from "./prepare-document.js";
import { type PreparedItem, preparedDocuments } from "./prepared-documents.js";
import { type PreprocessWorker, startPreprocessWorker, workerRecipeOf } from "./preprocess-pool.js";
import { describeSources, type ReadResult, readRawDocuments, type SourceFile } from "./readers/index.js";
import { noRecordError, requireReadableDocuments } from "./require-documents.js";
import { DocumentsSeen, recordSource, sourceKeyOf } from "./sources.js";
import {
  DEFAULT_INGEST_BATCH_SIZE,
  DEFAULT_INGEST_CONCURRENCY,
  DEFAULT_INGEST_WORKER_THREAD,
  type IngestOptions,
  type IngestProgress,
  type IngestSummary,
  type SkippedDocument,
  type WorkerThreadMode,
} from "./types.js";

export async function ingest(options: IngestOptions): Promise<IngestSummary> {
  const started = performance.now();
  const { embedder, signal } = options;
  const batchSize = positiveInteger(options.batchSize ?? DEFAULT_INGEST_BATCH_SIZE, "batchSize");
  const concurrency = positiveInteger(options.concurrency ?? DEFAULT_INGEST_CONCURRENCY, "concurrency");
  const fingerprint = createFingerprint(embedder, options.parameters);
  const sourceKey = options.sourceKey ?? (options.source === undefined ? undefined : sourceKeyOf(options.source));
  if (options.prune === true && sourceKey === undefined)
    throw new AppError("configuration_error", "prune needs a source (a path, or sourceKey with documents)");
  throwIfAborted(signal);
  // Nothing is created or changed for an input without a single readable record.
  const documents = await requireReadableDocuments(inputDocuments(options), options.source ?? "the documents given");
  throwIfAborted(signal);
  const prepared =
    options.recreate === true
      ? await prepareRebuild(options.store, fingerprint)
      : await prepareStore(options.store, fingerprint, { recreate: false });
  const { store } = prepared;

  const progress: IngestProgress = {
    documentsRead: 0,
    documentsSkipped: 0,
    ...(options.documentsTotal === undefined ? {} : { documentsTotal: options.documentsTotal }),
    documentsUnchanged: 0,
    documentsPruned: 0,
    chunksWritten: 0,
    chunksUnchanged: 0,
    chunksDeleted: 0,
    elapsedMs: 0,
  };
  const seen = new DocumentsSeen();
  const report = (): void => {
    progress.elapsedMs = performance.now() - started;
    options.onProgress?.({ ...progress });
  };
  const skipped: SkippedDocument[] = [];
  const inFlight: Promise<void>[] = [];
  const append = options.appendNewChunks ?? true;
  let window: PreparedDocument[] = [];
  let windowChunks = 0;
  let artifacts: ArtifactWriter | undefined;
  let worker: PreprocessWorker | undefined;

  const flush = async (): Promise<void> => {
    if (window.length === 0) return;
    const current = window;
    window = [];
    windowChunks = 0;
    // A store created by this run holds only what this run wrote, and documents are never repeated:
    // no need to ask it which chunks it has.
    const plan = prepared.created ? planForEmptyStore(current) : await planWindow(store, current);
    progress.documentsUnchanged += plan.documentsUnchanged;
    progress.chunksUnchanged += plan.chunksUnchanged;
    // With an embedding thread, the vectors are computed there while this thread goes on reading.
    const vectors = withVectors(plan.toWrite, embedder, worker, signal);
    vectors.catch(() => undefined); // awaited by the write below
    while (inFlight.length >= concurrency) await inFlight.shift();
    const write = (async () => {
      const embedded = await vectors;
      const knownNew = append ? plan.knownNew : 0;
      const upsertOptions = signal === undefined ? {} : { signal };
      if (knownNew > 0) await store.upsert(embedded.slice(0, knownNew), { ...upsertOptions, knownNew: true });
      if (knownNew < embedded.length) await store.upsert(embedded.slice(knownNew), upsertOptions);
      progress.chunksWritten += embedded.length;
      for (const [category, ids] of plan.stale) {
        await store.deleteChunks(category, ids);
        progress.chunksDeleted += ids.length;
      }
      report();
    })();
    write.catch(() => undefined); // awaited below; avoid an unhandled rejection meanwhile
    inFlight.push(write);
  };

  try {
    artifacts =
      options.artifactsDir === undefined ? undefined : await createArtifactWriter(options.artifactsDir, fingerprint);
    const mode = options.workerThread ?? DEFAULT_INGEST_WORKER_THREAD;
    worker = await maybeStartWorker(options, mode, artifacts !== undefined);
    const items: AsyncIterable<PreparedItem> = preparedDocuments(documents, {
      embedder,
      parameters: options.parameters,
      worker: mode === "preprocessing" ? worker : undefined,
      signal,
    });
    for await (const item of items) {
      if (item.kind === "skipped") {
        skipped.push(item.skipped);
        progress.documentsSkipped++;
        continue;
      }
      if (item.cleaned !== undefined) await artifacts?.add(item.cleaned);
      progress.documentsRead++;
      seen.add(item.document.category, item.document.documentId);
      window.push(item.document);
      windowChunks += item.document.chunks.length;
      if (windowChunks >= batchSize) await flush();
      report();
    }
    await flush();
    await Promise.all(inFlight);
    await closeWorker(worker, options);
    worker = undefined;
    // Every readable record was rejected later (e.g. duplicates): still no empty artifact.
    if (progress.documentsRead === 0)
      throw noRecordError(
        skipped.map((entry) => ({ ok: false, source: { file: entry.file, index: entry.index }, reason: entry.reason })),
        options.source ?? "the documents given",
      );
    // Every upsert is done: record which documents this source holds, pruning the others if asked.
    let metadata = prepared.metadata;
    if (sourceKey !== undefined) {
      throwIfAborted(signal);
      const recorded = await recordSource(store, metadata, {
        sourceKey,
        current: seen.toRecord(),
        prune: options.prune === true,
      });
      metadata = recorded.metadata;
      progress.documentsPruned += recorded.documentsPruned;
      progress.chunksDeleted += recorded.chunksDeleted;
    }
    const changed = progress.chunksWritten > 0 || progress.chunksDeleted > 0;
    if (changed) {
      await store.optimize();
      if (!prepared.created) await store.writeMetadata({ ...metadata, updatedAt: new Date().toISOString() });
    }
    throwIfAborted(signal);
    await prepared.rebuild?.publish();
    const artifact =
      artifacts === undefined
        ? null
        : await artifacts.finish({ sources: await sourceFilesOf(options), skipped: skipped.length });
    report();
    return {
      source: options.source ?? "(documents)",
      store: options.store.location,
      embedder: embedder.id,
      fingerprint: fingerprint.hash,
      recreated: prepared.recreated,
      documentsRead: progress.documentsRead,
      documentsSkipped: skipped,
      documentsUnchanged: progress.documentsUnchanged,
      documentsPruned: progress.documentsPruned,
      chunksWritten: progress.chunksWritten,
      chunksUnchanged: progress.chunksUnchanged,
      chunksDeleted: progress.chunksDeleted,
      durationMs: Math.round(performance.now() - started),
      artifact,
    };
  } catch (error) {
    await Promise.allSettled(inFlight);
    await prepared.rebuild?.discard().catch(() => undefined);
    await artifacts?.discard();
    await closeWorker(worker, options);
    worker = undefined;
    if (signal?.aborted && !(error instanceof AppError && error.code === "aborted")) {
      throw new AppError("aborted", "ingestion was aborted", { cause: error });
    }
    throw error;
  }
}

/**
 * The chunks with their vectors: those a preprocessing thread embedded keep theirs, the others are
 * embedded by the worker thread when there is one, else here. Chunk objects are fresh from the
 * chunker and owned by the pipeline: the vector is set on them in place.
 */
async function withVectors(
  chunks: readonly (Chunk | EmbeddedChunk)[],
  embedder: Embedder,
  worker: PreprocessWorker | undefined,
  signal: AbortSignal | undefined,
): Promise<EmbeddedChunk[]> {
  const missing = chunks.filter((chunk) => !hasVector(chunk));
  if (missing.length === 0) return chunks as EmbeddedChunk[];
  if (worker !== undefined) {
    const flat = await worker.embed(missing.map((chunk) => chunk.text));
    const { dimensions } = embedder;
    missing.forEach((chunk, position) => {
      (chunk as EmbeddedChunk).vector = flat.subarray(position * dimensions, (position + 1) * dimensions);
    });
    return chunks as EmbeddedChunk[];
  }
  for (let start = 0; start < missing.length; start += embedder.maxBatchSize) {
    const batch = missing.slice(start, start + embedder.maxBatchSize);
    const embedded = await embedder.embed(
      batch.map((chunk) => chunk.text),
      signal === undefined ? {} : { signal },
    );
    for (const [position, chunk] of batch.entries())
      (chunk as EmbeddedChunk).vector = embedded[position] as Float32Array;
  }
  return chunks as EmbeddedChunk[];
}

/** A worker thread when asked for and the embedder can be rebuilt in it. */
async function maybeStartWorker(
  options: IngestOptions,
  mode: WorkerThreadMode,
  keepCleaned: boolean,
): Promise<PreprocessWorker | undefined> {
  if (mode !== "none" && mode !== "embedding" && mode !== "preprocessing")
    throw new AppError("configuration_error", `workerThread must be none, embedding or preprocessing (got ${mode})`);
  if (mode === "none" || workerRecipeOf(options.embedder) === undefined) return undefined;
  return startPreprocessWorker(options.embedder, {
    keepCleaned,
    ...(options.parameters === undefined ? {} : { parameters: options.parameters }),
  });
}

async function closeWorker(worker: PreprocessWorker | undefined, options: IngestOptions): Promise<void> {
  if (worker === undefined) return;
  const cpuMs = await worker.close();
  options.onPreprocessWorkerClosed?.({ cpuMs, startupCpuMs: worker.startupCpuMs });
}

function inputDocuments(options: IngestOptions): AsyncIterable<ReadResult> {
  if (options.documents !== undefined) return options.documents;
  if (options.source === undefined) throw new AppError("bad_request", "ingest needs a source path or documents");
  return readRawDocuments(options.source);
}

async function sourceFilesOf(options: IngestOptions): Promise<SourceFile[]> {
  if (options.sourceFiles !== undefined) return options.sourceFiles;
  return options.source === undefined ? [] : describeSources(options.source);
}

function positiveInteger(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 1)
    throw new AppError("configuration_error", `${name} must be a positive integer (got ${value})`);
  return value;
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new AppError("aborted", "ingestion was aborted", { cause: signal.reason });
}
