/** Options of the Qdrant adapter, with their defaults. */

export type QdrantStoreOptions = {
  /** Base URL of the Qdrant REST API, e.g. http://localhost:6333. */
  url: string;
  /** API key (the `api-key` header); openVectorStore reads LLM_TWIN_QDRANT_API_KEY. */
  apiKey?: string;
  /** Per-request timeout in milliseconds. Default 30,000. */
  timeoutMs?: number;
  /** Points per upsert request. Default 256. */
  upsertBatchSize?: number;
  /** Query beam width `hnsw_ef` for dense queries. Default 128. */
  hnswEf?: number;
  /** Prefix of every collection name (for several stores on one server). Default "". */
  collectionPrefix?: string;
};
