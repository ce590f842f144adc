import type { Embedder } from "../embedding/index.js";
import type { PreprocessingParameters } from "../preprocessing/index.js";
import type { VectorStore } from "../vector-store/index.js";
import type { ArtifactReference } from "./artifacts/types.js";
import type { ReadResult, SourceFile } from "./readers/index.js";

export type SkippedDocument = { file: string; index: number; reason: string };

export type IngestProgress = {
  documentsRead: number;
  documentsSkipped: number;
  /** Documents in the input when known in advance (for the ETA). */
  documentsTotal?: number;
  documentsUnchanged: number;
  /** Documents deleted because this source no longer holds them (`prune`). */
  documentsPruned: number;
  chunksWritten: number;
  chunksUnchanged: number;
  chunksDeleted: number;
  elapsedMs: number;
};

export type IngestOptions = {
  /** A file or folder of raw documents (JSON array, JSON Lines, or a folder of such files). */
  source?: string;
  /** Already-read documents instead of `source` (benchmarks, other readers such as BEIR). */
  documents?: AsyncIterable<ReadResult>;
  /** Source files for the artifact's lineage when `documents` is given. */
  sourceFiles?: SourceFile[];
  /** Documents in `documents`, when known (for the ETA). */
  documentsTotal?: number;
  store: VectorStore;
  embedder: Embedder;
  /** Drop the store's contents first (needed to change embedder or preprocessing). */
  recreate?: boolean;
  /**
   * Delete the documents this source put in the store earlier and no longer holds (documents of
   * other sources are kept). Their chunks count in chunksDeleted, the documents in documentsPruned.
   */
  prune?: boolean;
  /**
   * The source's identity in the store's record of sources; default the absolute path of `source`.
   * Needed for `prune` with `documents`.
   */
  sourceKey?: string;
  /** Where dataset artifacts go; undefined = write none. */
  artifactsDir?: string;
  /** Chunks per embed + upsert window. Default 256. */
  batchSize?: number;
  /** Windows whose writes may be in flight while the next ones are read, cleaned and embedded. Default 2. */
  concurrency?: number;
  /**
   * What runs in a worker thread, for embedders that can be rebuilt in one (the static embedder;
   * others always run on the main thread): "none"; "embedding" — the main thread reads, cleans,
   * chunks, plans and writes while the thread embeds the chunks to write, a window ahead;
   * "preprocessing" — the thread cleans, chunks and embeds every document, the main thread only
   * plans and writes. Default "none": on 2 cores the thread's extra costs (message copies, a second
   * heap and its GC) ate its gain in every measurement (docs/benchmarks.md).
   */
  workerThread?: WorkerThreadMode;
  /**
   * Append the chunks of documents the store holds nothing of (ids proven absent) instead of
   * merging them by id. Needs this run to be the only writer of those documents; default true.
   */
  appendNewChunks?: boolean;
  /** Called once the worker thread stopped, with its thread's CPU time, total and for start-up (benchmarks). */
  onPreprocessWorkerClosed?: (stats: { cpuMs: number | null; startupCpuMs: number | null }) => void;
  parameters?: PreprocessingParameters;
  signal?: AbortSignal;
  onProgress?: (progress: IngestProgress) => void;
};

export type IngestSummary = {
  source: string;
  store: string;
  embedder: string;
  fingerprint: string;
  recreated: boolean;
  documentsRead: number;
  documentsSkipped: SkippedDocument[];
  documentsUnchanged: number;
  /** Documents deleted because the source no longer holds them (`prune`); 0 without it. */
  documentsPruned: number;
  chunksWritten: number;
  chunksUnchanged: number;
  chunksDeleted: number;
  durationMs: number;
  artifact: ArtifactReference | null;
};

export const DEFAULT_INGEST_BATCH_SIZE = 256;
export const DEFAULT_INGEST_CONCURRENCY = 2;
export type WorkerThreadMode = "none" | "embedding" | "preprocessing";
export const DEFAULT_INGEST_WORKER_THREAD: WorkerThreadMode = "none";
