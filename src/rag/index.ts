/** The RAG service: retrieval pipeline, answer stream, HTTP app. */
export { type AnswerOptions, answerOnce, answerStream } from "./answer.js";
export { createAuthorsCache } from "./authors-cache.js";
export { DEFAULT_RAG_CONFIG, type PromptTemplateSetting, type RagConfig, resolveRagConfig } from "./config.js";
export {
  buildRagApp,
  DEFAULT_RAG_HTTP_CONFIG,
  type RagAppOptions,
  type RagHttpConfig,
  type RateLimitConfig,
} from "./http/app.js";
export { createRagMetrics, type RagMetrics } from "./http/rag-metrics.js";
export { createReadinessCheck, type Readiness, type ReadinessCheck } from "./readiness.js";
export { type ResolvedRagRequest, resolveRagRequest } from "./request.js";
export type { Reranker } from "./rerank/port.js";
export { type RagDependencies, type RetrieveOptions, retrieve, retrieveResolved } from "./retrieve.js";
export { checkStoreFingerprint } from "./startup.js";
export { buildContext, estimateTokens, type TokenCounter } from "./steps/context.js";
export { matchAuthor, normalizeName } from "./steps/self-query.js";
export type {
  RagPart,
  RagRequest,
  RagResponse,
  RagSource,
  RagTimings,
  RetrievalResult,
  RetrieveResponse,
  SelfQueryMode,
} from "./types.js";
