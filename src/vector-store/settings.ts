/**
 * The vector stores' limits in the configuration registry (src/config/settings.ts), for the
 * commands that open a store (`ingest`, `serve`, `serve-rag`). Unset, each adapter keeps its
 * default (lancedb/memory-index.ts, qdrant/options.ts). No adapter is imported here: `--help` stays light.
 */
import { z } from "zod";
import type { Setting, SettingsValues } from "../config/settings.js";
import { definedOnly } from "../util/index.js";
import type { OpenVectorStoreOptions } from "./open.js";

const count = z.coerce.number({ error: "must be a number" }).int("must be an integer").min(0, "must be >= 0");
const positive = count.positive("must be positive");

export const VECTOR_STORE_SETTINGS = [
  {
    key: "lancedbMemoryIndexMb",
    flag: "--lancedb-memory-index-mb <mb>",
    env: "LLM_TWIN_LANCEDB_MEMORY_INDEX_MB",
    schema: count.optional(),
    defaultText: "256",
    help: "LanceDB: most MiB of vectors per table kept in memory for exact dense search (0 = off)",
  },
  {
    key: "lancedbExactScanRows",
    flag: "--lancedb-exact-scan-rows <n>",
    env: "LLM_TWIN_LANCEDB_EXACT_SCAN_ROWS",
    schema: count.optional(),
    defaultText: "50000",
    help: "LanceDB: most candidate rows a filtered query scans exactly in memory",
  },
  {
    key: "lancedbFirstBuildWaitMs",
    flag: "--lancedb-first-build-wait-ms <ms>",
    env: "LLM_TWIN_LANCEDB_FIRST_BUILD_WAIT_MS",
    schema: count.optional(),
    defaultText: "2000",
    help: "LanceDB: how long the first search of a table waits for its in-memory copy (then LanceDB answers)",
  },
  {
    key: "qdrantApiKey",
    flag: "--qdrant-api-key <key>",
    env: "LLM_TWIN_QDRANT_API_KEY",
    schema: z.string().trim().min(1, "must not be empty").optional(),
    help: "Qdrant: the api-key header (prefer the variable: a flag shows in the process list)",
  },
  {
    key: "qdrantTimeoutMs",
    flag: "--qdrant-timeout-ms <ms>",
    env: "LLM_TWIN_QDRANT_TIMEOUT_MS",
    schema: positive.optional(),
    defaultText: "30000",
    help: "Qdrant: deadline of each request attempt, also sent as its server-side timeout",
  },
  {
    key: "qdrantRetries",
    flag: "--qdrant-retries <n>",
    env: "LLM_TWIN_QDRANT_RETRIES",
    schema: count.optional(),
    defaultText: "3",
    help: "Qdrant: retries of a retryable failure (429, 502–504, connection refused/reset), with backoff",
  },
  {
    key: "qdrantMaxRequestBytes",
    flag: "--qdrant-max-request-bytes <bytes>",
    env: "LLM_TWIN_QDRANT_MAX_REQUEST_BYTES",
    schema: positive.optional(),
    defaultText: "16777216",
    help: "Qdrant: most bytes of JSON per upsert request (batches are split below it)",
  },
  {
    key: "qdrantShards",
    flag: "--qdrant-shards <n>",
    env: "LLM_TWIN_QDRANT_SHARDS",
    schema: positive.optional(),
    defaultText: "1",
    help: "Qdrant: shards of each collection created",
  },
] as const satisfies readonly Setting[];

export type VectorStoreSettings = SettingsValues<typeof VECTOR_STORE_SETTINGS>;

/** openVectorStore's options from the settings given (unset ones keep the adapters' defaults). */
export function vectorStoreOptions(settings: VectorStoreSettings): OpenVectorStoreOptions {
  return {
    lancedb: {
      memoryIndex: definedOnly({
        maxMegabytes: settings.lancedbMemoryIndexMb,
        maxScanRows: settings.lancedbExactScanRows,
        firstBuildWaitMs: settings.lancedbFirstBuildWaitMs,
      }),
    },
    qdrant: definedOnly({
      apiKey: settings.qdrantApiKey,
      timeoutMs: settings.qdrantTimeoutMs,
      retries: settings.qdrantRetries,
      maxRequestBytes: settings.qdrantMaxRequestBytes,
      shardNumber: settings.qdrantShards,
    }),
  };
}
