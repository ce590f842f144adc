/**
 * Retrieval and generation as free functions with one options object (vercel/ai style): the
 * request fields, the adapters and the settings side by side. The RAG service runs the same
 * pipeline (src/rag); these only assemble its dependencies.
 */
import type { Embedder } from "../embedding/port.js";
import type { LanguageModel } from "../llm/port.js";
import { answerOnce, answerStream as answerStreamWith } from "../rag/answer.js";
import { type RagConfig, resolveRagConfig } from "../rag/config.js";
import { inProcessEngineOf, inProcessPromptLimit } from "../rag/in-process-limit.js";
import type { Reranker } from "../rag/rerank/port.js";
import { type RagDependencies, retrieve as retrieveWith } from "../rag/retrieve.js";
import type { RagPart, RagRequest, RagResponse, RetrievalResult } from "../rag/types.js";
import type { VectorStore } from "../vector-store/port.js";
import { servicePromptLimitOf } from "./prompt-limits.js";

export type RetrieveInput = Omit<RagRequest, "stream" | "maxNewTokens" | "temperature"> & {
  store: VectorStore;
  embedder: Embedder;
  /** Needed only for `selfQuery: "llm"` and query expansion (`expandQueries` > 1). */
  llm?: LanguageModel;
  /** Scores the candidates against the query; default: reciprocal-rank fusion order. */
  reranker?: Reranker;
  /** Pipeline settings (retrieval mode, k bounds, timeouts...); the service's defaults otherwise. */
  config?: Partial<RagConfig>;
  signal?: AbortSignal;
};

export type AnswerInput = Omit<RetrieveInput, "llm"> &
  Pick<RagRequest, "maxNewTokens" | "temperature"> & {
    llm: LanguageModel;
  };

function split(input: RetrieveInput | AnswerInput): {
  request: RagRequest;
  deps: RagDependencies;
  signal: AbortSignal | undefined;
} {
  const { store, embedder, llm, reranker, config, signal, ...request } = input;
  // The model's input limit fits the prompt to it, as `llm-twin serve` (in process: its tokenizer)
  // and serve-rag (over HTTP: the service's /info) do.
  const engine = llm === undefined ? undefined : inProcessEngineOf(llm);
  const serviceLimit = llm === undefined ? undefined : servicePromptLimitOf(llm);
  const deps: RagDependencies = {
    store,
    embedder,
    config: resolveRagConfig(config),
    ...(llm === undefined ? {} : { llm }),
    ...(engine === undefined ? {} : inProcessPromptLimit(engine)),
    ...(serviceLimit === undefined ? {} : { promptLimit: serviceLimit }),
    ...(reranker === undefined ? {} : { reranker }),
  };
  return { request, deps, signal };
}

/** The sources for `query`: self-query, expansion, search per category, merge, rerank, top k. */
export async function retrieve(input: RetrieveInput): Promise<RetrievalResult> {
  const { request, deps, signal } = split(input);
  return retrieveWith(request, deps, signal === undefined ? {} : { signal });
}

/** Retrieves, then generates the answer in the author's voice; resolves once it is complete. */
export async function answer(input: AnswerInput): Promise<RagResponse> {
  const { request, deps, signal } = split(input);
  return answerOnce(request, deps, signal === undefined ? {} : { signal });
}

/**
 * Retrieves, then streams the answer: one `sources` part, `token` parts, then `done` (with usage
 * and timings) or `error`.
 */
export function answerStream(input: AnswerInput): AsyncIterable<RagPart> {
  const { request, deps, signal } = split(input);
  return answerStreamWith(request, deps, signal === undefined ? {} : { signal });
}
