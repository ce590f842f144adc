import type { DataCategory } from "../../domain/index.js";
import type { PreprocessingFingerprint } from "../../vector-store/index.js";
import type { SourceFile } from "../readers/index.js";

export const ARTIFACT_FORMAT_VERSION = 1;
export const DOCUMENTS_FILE = "documents.jsonl";
export const MANIFEST_FILE = "manifest.json";
export const LATEST_FILE = "LATEST";

/** manifest.json of one dataset artifact. */
export type ArtifactManifest = {
  formatVersion: number;
  /** sha256 over the cleaned documents' content hash and the fingerprint hash, first 16 hex digits. */
  version: string;
  createdAt: string;
  /** The latest artifact when this one was created (lineage); null for the first. */
  parent: string | null;
  /** sha256 of documents.jsonl. */
  contentHash: string;
  documents: {
    file: string;
    count: number;
    byCategory: Record<DataCategory, number>;
    /** Keyed by author full name. */
    byAuthor: Record<string, number>;
    /** Records that could not be read or cleaned, not in the file. */
    skipped: number;
  };
  sources: SourceFile[];
  fingerprint: PreprocessingFingerprint;
};

/** What an ingest summary says about the artifact of its run. */
export type ArtifactReference = {
  version: string;
  path: string;
  /** false when an artifact with the same version already existed (same input, same preprocessing). */
  created: boolean;
  parent: string | null;
};
