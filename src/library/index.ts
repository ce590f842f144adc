/**
 * `import { … } from "llm-twin"`: the library entry point. Free functions with one options object
 * to fill a store from raw documents, retrieve, answer and stream answers; constructors of the
 * adapters behind them; the error type every failure carries (`code`, `isRetryable`). Nothing
 * runs and nothing heavy loads at import time. The GGUF generator is at `llm-twin/testing`.
 */
export type { Author, DataCategory, RawDocument } from "../domain/types.js";
export { DATA_CATEGORIES } from "../domain/types.js";
export type { CreateEmbedderOptions } from "../embedding/create.js";
export type { Embedder, EmbedOptions } from "../embedding/port.js";
export { AppError, type ErrorCode, isAppError } from "../errors/index.js";
export type { IngestOptions, IngestProgress, IngestSummary } from "../ingestion/types.js";
export type {
  ChatMessage,
  GenerateRequest,
  GenerateResult,
  GenerationParameters,
  LanguageModel,
  LanguageModelInput,
  StreamPart,
  Usage,
} from "../llm/port.js";
export { DEFAULT_RAG_CONFIG, type RagConfig } from "../rag/config.js";
export type { Reranker } from "../rag/rerank/port.js";
export type {
  RagPart,
  RagRequest,
  RagResponse,
  RagSource,
  RagTimings,
  RetrievalResult,
  SelfQueryMode,
} from "../rag/types.js";
export type { OpenVectorStoreOptions } from "../vector-store/open.js";
export type { SearchMode, VectorStore } from "../vector-store/port.js";
export { ingest } from "./ingest.js";
export { type AnswerInput, answer, answerStream, type RetrieveInput, retrieve } from "./rag.js";
export {
  type CreateEmbedderInput,
  type CreateLanguageModelInput,
  createEmbedder,
  createLanguageModel,
  type LocalLanguageModelInput,
  type OpenVectorStoreInput,
  openVectorStore,
  type RemoteLanguageModelInput,
} from "./resources.js";
