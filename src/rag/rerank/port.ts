/** The Reranker port: scores documents against a query. Adapters: GGUF ranking model on llama.cpp, reciprocal-rank fusion. */

export type RerankOptions = { signal?: AbortSignal };

export type Reranker = {
  readonly id: string;
  /** One relevance score per document, in input order; higher is more relevant. */
  score(query: string, documents: readonly string[], options?: RerankOptions): Promise<number[]>;
  [Symbol.asyncDispose](): Promise<void>;
};
