/** The shared preprocessing module: used by ingestion and by the query path of the RAG service. */
export { canonicalJson, sha256Hex } from "./canonical-json.js";
export { chunkDocument } from "./chunking/chunk-document.js";
export { chunkId } from "./chunking/chunk-id.js";
export type { CountedText, TokenCounter } from "./chunking/token-counter.js";
export { type CleanOptions, cleanDocument, cleanPlainText, cleanTitle } from "./cleaning/clean-document.js";
export { REPOSITORY_FILE_HEADER, repositoryFileHeader } from "./cleaning/repository.js";
export {
  assertFingerprintMatches,
  createFingerprint,
  describeFingerprintDifferences,
  type EmbedderIdentity,
  fingerprintsMatch,
} from "./fingerprint.js";
export {
  type ChunkingParameters,
  type ChunkingParametersByCategory,
  DEFAULT_PREPROCESSING_PARAMETERS,
  PREPROCESSING_VERSION,
  type PreprocessingParameters,
  type RepositoryCleaningParameters,
  type SentenceChunkingParameters,
  type TokenChunkingParameters,
} from "./parameters.js";
export * from "./prompt/index.js";
export { cleanQuery } from "./query.js";
