/**
 * What an answer is cached under. The partition is a hash of everything besides the question
 * that changes the answer: the author filter, the store's version (any ingestion changes it, so
 * every earlier answer stops matching), and the request's shape (templates, models, retrieval and
 * generation settings, the history the prompt carries). Within a partition, answers are told apart
 * by the similarity of their standalone questions' embeddings.
 */
import { createHash } from "node:crypto";
import { PREPROCESSING_VERSION, PROMPT_TEMPLATES_VERSION } from "../../preprocessing/index.js";
import type { VectorStore } from "../../vector-store/index.js";
import type { ResolvedRagRequest } from "../request.js";
import type { RagDependencies } from "../retrieve.js";

/** Bumped when the cached value's layout or the key's meaning changes. */
export const ANSWER_CACHE_KEY_VERSION = 1;

/** The request's shape: what else than the question and the author decides the answer. */
export function requestShape(request: ResolvedRagRequest, deps: RagDependencies): Record<string, unknown> {
  const { config } = deps;
  const template = config.promptTemplate;
  return {
    key: ANSWER_CACHE_KEY_VERSION,
    promptTemplates: PROMPT_TEMPLATES_VERSION,
    preprocessing: PREPROCESSING_VERSION,
    template: typeof template === "string" ? template : sha256(template.custom),
    model: deps.llm?.id ?? null,
    embedder: deps.embedder.id,
    reranker: deps.reranker?.id ?? null,
    retrievalMode: config.retrievalMode,
    hybrid: [config.hybridFusion, config.hybridDenseWeight, config.rrfK, config.titleWeight],
    searchLimit: config.searchLimit,
    k: request.k,
    expandQueries: request.expandQueries,
    selfQuery: request.selfQuery,
    categories: [...request.categories].sort(),
    contextTokens: config.contextTokenBudget,
    historyTokens: config.historyTokenBudget,
    maxNewTokens: request.maxNewTokens,
    temperature: request.temperature,
    topP: config.topP,
    repetitionPenalty: config.repetitionPenalty,
    // The generation prompt carries the recent turns: another conversation is another answer.
    history: request.history.length === 0 ? null : sha256(JSON.stringify(request.history)),
  };
}

export function partitionKey(parts: { authorId: string | undefined; storeVersion: string; shape: object }): string {
  return sha256(JSON.stringify([parts.authorId ?? null, parts.storeVersion, parts.shape])).slice(0, 32);
}

/**
 * The store's version: its own `dataVersion()` when it has one (LanceDB: the generation and every
 * table's version), else the metadata's `updatedAt`, which every ingestion rewrites.
 */
export async function storeVersion(store: VectorStore): Promise<string> {
  if (store.dataVersion !== undefined) return store.dataVersion();
  const metadata = await store.readMetadata();
  return metadata === undefined ? "empty" : `metadata:${metadata.updatedAt}`;
}

function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}
