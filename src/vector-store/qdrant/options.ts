/** Options of the Qdrant adapter, with their defaults, checked once at open. */
import { AppError } from "../../errors/app-error.js";
import type { QdrantTransport } from "./rest.js";
import type { SparseEncoderOptions } from "./sparse.js";

export type QdrantStoreOptions = {
  /** Base URL of the REST API, e.g. http://localhost:6333, https://qdrant.example.com (443), https://host/qdrant. */
  url: string;
  /** API key (the `api-key` header); openVectorStore reads LLM_TWIN_QDRANT_API_KEY. */
  apiKey?: string;
  /** Deadline of each request attempt (ms), also sent as Qdrant's server-side `timeout`. Default 30,000. */
  timeoutMs?: number;
  /** Retries of a retryable failure (429, 502–504, connection refused/reset), with backoff. Default 3. */
  retries?: number;
  /** First backoff delay (ms), doubled on each retry; a longer Retry-After wins. Default 200. */
  backoffMs?: number;
  /** Most points per upsert request. Default 256. */
  upsertBatchSize?: number;
  /**
   * Most bytes of JSON per upsert request: batches are split below it. Default 16 MiB, half of
   * Qdrant's default `service.max_request_size_mb` (32).
   */
  maxRequestBytes?: number;
  /** Query beam width `hnsw_ef` for dense queries. Default 128. */
  hnswEf?: number;
  /** Shards of each collection created (IDF is computed per shard: see docs/vector-stores.md). Default 1. */
  shardNumber?: number;
  /** Prefix of every collection name (several stores on one server, tests). Default "". */
  collectionPrefix?: string;
  /** BM25 parameters of the client-side sparse vectors. */
  sparse?: SparseEncoderOptions;
  /** Sends requests instead of fetch (tests: the in-process fake server). */
  transport?: QdrantTransport;
};

export type ResolvedQdrantOptions = Required<Omit<QdrantStoreOptions, "apiKey" | "transport" | "sparse">> & {
  sparse: SparseEncoderOptions;
};

export const QDRANT_DEFAULTS = {
  timeoutMs: 30_000,
  retries: 3,
  backoffMs: 200,
  upsertBatchSize: 256,
  maxRequestBytes: 16 * 1024 * 1024,
  hnswEf: 128,
  shardNumber: 1,
} as const;

/** The environment variable of each option (what a configuration error names). */
export const QDRANT_OPTION_VARIABLES = {
  timeoutMs: "LLM_TWIN_QDRANT_TIMEOUT_MS",
  retries: "LLM_TWIN_QDRANT_RETRIES",
  maxRequestBytes: "LLM_TWIN_QDRANT_MAX_REQUEST_BYTES",
  shardNumber: "LLM_TWIN_QDRANT_SHARDS",
} as const;

const COLLECTION_PREFIX = /^[A-Za-z0-9_-]*$/;

export function resolveQdrantOptions(options: QdrantStoreOptions): ResolvedQdrantOptions {
  const resolved: ResolvedQdrantOptions = {
    url: options.url,
    timeoutMs: options.timeoutMs ?? QDRANT_DEFAULTS.timeoutMs,
    retries: options.retries ?? QDRANT_DEFAULTS.retries,
    backoffMs: options.backoffMs ?? QDRANT_DEFAULTS.backoffMs,
    upsertBatchSize: options.upsertBatchSize ?? QDRANT_DEFAULTS.upsertBatchSize,
    maxRequestBytes: options.maxRequestBytes ?? QDRANT_DEFAULTS.maxRequestBytes,
    hnswEf: options.hnswEf ?? QDRANT_DEFAULTS.hnswEf,
    shardNumber: options.shardNumber ?? QDRANT_DEFAULTS.shardNumber,
    collectionPrefix: options.collectionPrefix ?? "",
    sparse: options.sparse ?? {},
  };
  const checks: [keyof typeof resolved, number, number][] = [
    ["timeoutMs", resolved.timeoutMs, 1],
    ["retries", resolved.retries, 0],
    ["backoffMs", resolved.backoffMs, 0],
    ["upsertBatchSize", resolved.upsertBatchSize, 1],
    ["maxRequestBytes", resolved.maxRequestBytes, 1024],
    ["hnswEf", resolved.hnswEf, 1],
    ["shardNumber", resolved.shardNumber, 1],
  ];
  for (const [name, value, minimum] of checks) {
    if (!Number.isInteger(value) || value < minimum) {
      const variable = (QDRANT_OPTION_VARIABLES as Record<string, string>)[name];
      throw new AppError(
        "configuration_error",
        `Qdrant option ${name} must be an integer >= ${minimum}, got ${value}${variable === undefined ? "" : ` (set ${variable})`}.`,
      );
    }
  }
  if (!COLLECTION_PREFIX.test(resolved.collectionPrefix)) {
    throw new AppError(
      "configuration_error",
      `Qdrant collection prefix "${resolved.collectionPrefix}" may only hold letters, digits, "_" and "-".`,
    );
  }
  return resolved;
}
