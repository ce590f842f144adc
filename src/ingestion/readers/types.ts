import type { RawDocument } from "../../domain/index.js";

export type SourcePosition = {
  /** The file the record comes from (the input path, or input folder joined with the relative path). */
  file: string;
  /** 0-based position: array element index (JSON) or line index (JSON Lines); -1 for a whole-file failure. */
  index: number;
};

export type ReadResult =
  | { ok: true; document: RawDocument; source: SourcePosition; sourceHash: string }
  | { ok: false; source: SourcePosition; reason: string };

export type ReadOptions = {
  /** Files larger than this are rejected whole (default 256 MiB). */
  maxFileBytes?: number;
  /** Records whose JSON is larger than this are rejected (default 5 MiB). */
  maxDocumentBytes?: number;
};

export const DEFAULT_MAX_FILE_BYTES = 256 * 1024 * 1024;
export const DEFAULT_MAX_DOCUMENT_BYTES = 5 * 1024 * 1024;

export type SourceFile = { file: string; sha256: string; bytes: number };
