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
  /** Where dataset artifacts go; undefined = write none. */
  artifactsDir?: string;
  /** Chunks per embed + upsert window. Default 256. */
  batchSize?: number;
  /** Windows whose writes may be in flight while the next ones are read, cleaned and embedded. Default 2. */
  concurrency?: number;
  /**
   * Preprocessing worker threads (0 or 1): with 1, cleaning, chunking and embedding run in a worker
   * thread while the main thread plans and writes. Only for embedders that can be rebuilt in a
   * thread (the static embedder); others always run on the main thread. Default 0: measured on 2
   * cores, the thread costs more CPU in all (message copies, a second heap) than it takes off the main
   * thread, and an unchanged rerun would embed everything again (see docs/benchmarks.md).
   */
  preprocessWorkers?: number;
  /**
   * Append the chunks of documents the store holds nothing of (ids proven absent) instead of
   * merging them by id. Needs this run to be the only writer of those documents; default true.
   */
  appendNewChunks?: boolean;
  /** Called once the preprocessing worker stopped, with its thread's CPU time, total and for start-up (benchmarks). */
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
  chunksWritten: number;
  chunksUnchanged: number;
  chunksDeleted: number;
  durationMs: number;
  artifact: ArtifactReference | null;
};

export const DEFAULT_INGEST_BATCH_SIZE = 256;
export const DEFAULT_INGEST_CONCURRENCY = 2;
export const DEFAULT_INGEST_PREPROCESS_WORKERS = 0;
