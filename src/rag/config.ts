/**
 * Retrieval and generation settings of the RAG service, with their defaults. The composition roots
 * fill them from flags and environment variables; tests and the evaluation harness pass partial
 * overrides to `resolveRagConfig`.
 */
import { DATA_CATEGORIES, type DataCategory } from "../domain/index.js";
import type { PromptTemplate } from "../preprocessing/index.js";
import { definedOnly } from "../util/index.js";
import type { HybridFusion, SearchMode } from "../vector-store/index.js";
import type { SelfQueryMode } from "./types.js";

/** "chat": the model's own chat template; "alpaca": the reference's fine-tuning format; or a custom template text. */
export type PromptTemplateSetting = PromptTemplate;

export type RagConfig = {
  retrievalMode: SearchMode;
  /** Sources kept after reranking when the request does not say. The reference kept 3. */
  k: number;
  /** Largest `k` a request may ask for. */
  maxK: number;
  /** Queries after expansion, the original included (1 = no expansion). The reference used 3. */
  expandQueries: number;
  maxExpandQueries: number;
  selfQuery: SelfQueryMode;
  /** Categories searched when the request does not say. */
  categories: DataCategory[];
  /** Hits asked of the store per (query, category) search. */
  searchLimit: number;
  /** How hybrid search fuses its dense and lexical candidates ("agreement" or "rrf"; vector-store/fusion.ts). */
  hybridFusion: HybridFusion;
  /** Weight of the dense list in hybrid search (lexical gets the rest); with "agreement", its maximum. */
  hybridDenseWeight: number;
  /** The constant of reciprocal-rank fusion (store-side hybrid and our own fusion of lists). */
  rrfK: number;
  /** Weight of title matches added to every search list's scores (rag/steps/title-boost.ts); 0 = off. */
  titleWeight: number;
  /** Most candidates sent to a GGUF reranker (the best by fusion first). */
  rerankCandidates: number;
  /** When the reranker fails or times out: keep the fusion order ("fallback") or fail the request ("fail"). */
  rerankerFailure: "fallback" | "fail";
  /** Tokens the retrieved context may take in the prompt. */
  contextTokenBudget: number;
  promptTemplate: PromptTemplateSetting;
  maxNewTokens: number;
  /** Largest `maxNewTokens` a request may ask for. */
  maxNewTokensLimit: number;
  temperature: number;
  topP: number;
  repetitionPenalty: number;
  /** New tokens for the query-expansion and self-query LLM calls. */
  expansionMaxNewTokens: number;
  selfQueryMaxNewTokens: number;
  /** New tokens for the condensing LLM call (follow-up → standalone question). */
  condenseMaxNewTokens: number;
  /** Least share of word tokens in a condensed question, else it is "gibberish" (rag/steps/condense-check.ts); 0 = no check. */
  condenseMinWordShare: number;
  /** Least share of a condensed question's content words found in the follow-up or the history, else "unrelated"; 0 = no check. */
  condenseMinOverlap: number;
  /** Longest accepted query, in characters. */
  maxQueryChars: number;
  /** Most earlier turns a request may send in `history`. */
  maxHistoryTurns: number;
  /** Most characters of all `history` turns together. */
  maxHistoryChars: number;
  /** Tokens the earlier turns may take in the generation prompt (after the context; fewer when the model's input is full). */
  historyTokenBudget: number;
  /** Timeouts of upstream calls, in milliseconds. */
  llmTimeoutMs: number;
  embedderTimeoutMs: number;
  storeTimeoutMs: number;
  rerankerTimeoutMs: number;
};

export const DEFAULT_RAG_CONFIG: RagConfig = {
  retrievalMode: "hybrid",
  k: 3,
  maxK: 50,
  expandQueries: 3,
  maxExpandQueries: 8,
  selfQuery: "match",
  categories: [...DATA_CATEGORIES],
  searchLimit: 10,
  // Agreement fusion (docs/evaluation.md, "Hybrid fusion"): the dense list weighs up to 0.3, scaled by
  // how much it agrees with the lexical one, so a weak embedder cannot pull hybrid below lexical
  // (chosen on half of SciFact train, checked on the other half and on the LLM Twin questions).
  hybridFusion: "agreement",
  hybridDenseWeight: 0.3,
  rrfK: 3,
  // Off by default: it lifts the LLM Twin questions (hybrid nDCG@10 0.876 → 0.902) but on SciFact's
  // held-out half lexical gains more from it than hybrid (docs/evaluation.md).
  titleWeight: 0,
  rerankCandidates: 30,
  rerankerFailure: "fallback",
  contextTokenBudget: 1024,
  promptTemplate: "chat",
  maxNewTokens: 150,
  maxNewTokensLimit: 2048,
  temperature: 0.01,
  topP: 0.9,
  repetitionPenalty: 1.1,
  expansionMaxNewTokens: 160,
  selfQueryMaxNewTokens: 48,
  condenseMaxNewTokens: 96,
  // A standalone question is words, mostly those of the follow-up and the conversation; a random-weight
  // model's rewrites fail both (docs/rag-service.md, "Condensing"; bench follow-up-retrieval).
  condenseMinWordShare: 0.8,
  condenseMinOverlap: 0.5,
  maxQueryChars: 4000,
  maxHistoryTurns: 20,
  maxHistoryChars: 16_000,
  historyTokenBudget: 512,
  llmTimeoutMs: 60_000,
  embedderTimeoutMs: 10_000,
  storeTimeoutMs: 10_000,
  rerankerTimeoutMs: 20_000,
};

export function resolveRagConfig(overrides: Partial<RagConfig> = {}): RagConfig {
  return { ...DEFAULT_RAG_CONFIG, ...definedOnly(overrides) } as RagConfig;
}
