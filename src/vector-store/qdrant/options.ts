/** Options of the Qdrant adapter, with their defaults. */
import type { QdrantClient } from "@qdrant/js-client-rest";
import type { SparseEncoderOptions } from "./sparse.js";

/** The part of the Qdrant client the adapter uses (tests pass a recording fake). */
export type QdrantApi = Pick<
  QdrantClient,
  | "collectionExists"
  | "getCollection"
  | "createCollection"
  | "createPayloadIndex"
  | "deleteCollection"
  | "upsert"
  | "delete"
  | "scroll"
  | "query"
  | "count"
  | "facet"
  | "retrieve"
>;

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
  /** Prefix of every collection name (several stores on one server, tests). Default "". */
  collectionPrefix?: string;
  /** BM25 parameters of the client-side sparse vectors. */
  sparse?: SparseEncoderOptions;
  /** A client to use instead of one built from url/apiKey (tests). */
  client?: QdrantApi;
};
