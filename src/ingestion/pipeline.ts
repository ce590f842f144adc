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
 * - Bounded memory and overlap: documents are processed in windows of ~batchSize chunks; while
 *   up to `concurrency` windows are being written (native LanceDB threads / network), the next
 *   window is read, cleaned, chunked and embedded on the main thread.
 */
import { AppError } from "../errors/index.js";
import { chunkDocument, cleanDocument, createFingerprint } from "../preprocessing/index.js";
import { type ArtifactWriter, createArtifactWriter } from "./artifacts/index.js";
import { prepareStore } from "./fingerprint-guard.js";
import { type PreparedDocument, planForEmptyStore, planWindow } from "./plan.js";
import { describeSources, type ReadResult, readRawDocuments, type SourceFile } from "./readers/index.js";
import {
  DEFAULT_INGEST_BATCH_SIZE,
  DEFAULT_INGEST_CONCURRENCY,
  type IngestOptions,
  type IngestProgress,
  type IngestSummary,
  type SkippedDocument,
} from "./types.js";

export async function ingest(options: IngestOptions): Promise<IngestSummary> {
  const started = performance.now();
  const { store, embedder, signal } = options;
  const batchSize = positiveInteger(options.batchSize ?? DEFAULT_INGEST_BATCH_SIZE, "batchSize");
  const concurrency = positiveInteger(options.concurrency ?? DEFAULT_INGEST_CONCURRENCY, "concurrency");
  const documents = inputDocuments(options);
  const fingerprint = createFingerprint(embedder, options.parameters);
  throwIfAborted(signal);
  const prepared = await prepareStore(store, fingerprint, { recreate: options.recreate === true });

  const progress: IngestProgress = {
    documentsRead: 0,
    documentsSkipped: 0,
    ...(options.documentsTotal === undefined ? {} : { documentsTotal: options.documentsTotal }),
    documentsUnchanged: 0,
    chunksWritten: 0,
    chunksUnchanged: 0,
    chunksDeleted: 0,
    elapsedMs: 0,
  };
  const report = (): void => {
    progress.elapsedMs = performance.now() - started;
    options.onProgress?.({ ...progress });
  };
  const skipped: SkippedDocument[] = [];
  const seen = new Map<string, string>();
  const inFlight: Promise<void>[] = [];
  let window: PreparedDocument[] = [];
  let windowChunks = 0;
  let artifacts: ArtifactWriter | undefined;

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
    const embedded = [];
    for (let start = 0; start < plan.toWrite.length; start += embedder.maxBatchSize) {
      const batch = plan.toWrite.slice(start, start + embedder.maxBatchSize);
      const vectors = await embedder.embed(
        batch.map((chunk) => chunk.text),
        signal === undefined ? {} : { signal },
      );
      for (const [position, chunk] of batch.entries())
        embedded.push({ ...chunk, vector: vectors[position] as Float32Array });
    }
    while (inFlight.length >= concurrency) await inFlight.shift();
    const write = (async () => {
      if (embedded.length > 0) {
        await store.upsert(embedded, signal === undefined ? {} : { signal });
        progress.chunksWritten += embedded.length;
      }
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
    for await (const result of documents) {
      throwIfAborted(signal);
      if (!result.ok) {
        skipped.push({ ...result.source, reason: result.reason });
        progress.documentsSkipped++;
        continue;
      }
      const { document, source } = result;
      const key = `${document.category}\u0000${document.id}`;
      const firstSeen = seen.get(key);
      if (firstSeen !== undefined) {
        skipped.push({
          ...source,
          reason: `duplicate ${document.category} id "${document.id}" (first read at ${firstSeen})`,
        });
        progress.documentsSkipped++;
        continue;
      }
      seen.set(key, `${source.file}:${source.index}`);
      let preparedDocument: PreparedDocument;
      try {
        const cleaned = cleanDocument(document, {
          sourceHash: result.sourceHash,
          ...(options.parameters === undefined ? {} : { parameters: options.parameters }),
        });
        const chunks = chunkDocument(cleaned, embedder, options.parameters?.chunking);
        await artifacts?.add(cleaned);
        preparedDocument = { category: document.category, documentId: document.id, chunks };
      } catch (error) {
        if (error instanceof AppError && error.code === "invalid_document") {
          skipped.push({ ...source, reason: error.message });
          progress.documentsSkipped++;
          continue;
        }
        throw error;
      }
      progress.documentsRead++;
      window.push(preparedDocument);
      windowChunks += preparedDocument.chunks.length;
      if (windowChunks >= batchSize) await flush();
      report();
    }
    await flush();
    await Promise.all(inFlight);
    const changed = progress.chunksWritten > 0 || progress.chunksDeleted > 0;
    if (changed) {
      await store.optimize();
      if (!prepared.created) await store.writeMetadata({ ...prepared.metadata, updatedAt: new Date().toISOString() });
    }
    const artifact =
      artifacts === undefined
        ? null
        : await artifacts.finish({ sources: await sourceFilesOf(options), skipped: skipped.length });
    report();
    return {
      source: options.source ?? "(documents)",
      store: store.location,
      embedder: embedder.id,
      fingerprint: fingerprint.hash,
      recreated: prepared.recreated,
      documentsRead: progress.documentsRead,
      documentsSkipped: skipped,
      documentsUnchanged: progress.documentsUnchanged,
      chunksWritten: progress.chunksWritten,
      chunksUnchanged: progress.chunksUnchanged,
      chunksDeleted: progress.chunksDeleted,
      durationMs: Math.round(performance.now() - started),
      artifact,
    };
  } catch (error) {
    await Promise.allSettled(inFlight);
    await artifacts?.discard();
    if (signal?.aborted && !(error instanceof AppError && error.code === "aborted")) {
      throw new AppError("aborted", "ingestion was aborted", { cause: error });
    }
    throw error;
  }
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
