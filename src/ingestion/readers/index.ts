export { DOCUMENT_FILE_SUFFIXES, isDocumentFile, listInputFiles } from "./list-files.js";
export { type ParseOutcome, parseRecord } from "./parse-record.js";
export { describeSources, readRawDocuments } from "./read-raw-documents.js";
export {
  DEFAULT_MAX_DOCUMENT_BYTES,
  DEFAULT_MAX_FILE_BYTES,
  type ReadOptions,
  type ReadResult,
  type SourceFile,
  type SourcePosition,
} from "./types.js";
