/**
 * What the adapter needs from a Qdrant server and its collections, checked before use: the
 * server version (Query API ≥ 1.10, facets ≥ 1.12), and for an existing collection the dense
 * vector's size and distance, the sparse vector's `idf` modifier and the keyword payload indexes
 * the filters and facets use (missing indexes are reported for creation).
 */
import { AppError, isAppError } from "../../errors/app-error.js";
import type { Rest } from "./rest.js";

export const DENSE_VECTOR = "dense";
export const SPARSE_VECTOR = "sparse";
/** Keyword payload indexes: author_id (filters, facets), document_id (re-ingestion lookups). */
export const KEYWORD_INDEXES = ["author_id", "document_id"] as const;

/** The oldest server with everything the adapter sends: `/points/query` (1.10) and `/facet` (1.12). */
export const MINIMUM_QDRANT_VERSION = "1.12.0";

export function compareVersions(left: string, right: string): number {
  const parts = (version: string) =>
    version
      .split(/[.-]/)
      .slice(0, 3)
      .map((part) => Number.parseInt(part, 10) || 0);
  const [a, b] = [parts(left), parts(right)];
  for (let index = 0; index < 3; index++) {
    const difference = (a[index] ?? 0) - (b[index] ?? 0);
    if (difference !== 0) return difference;
  }
  return 0;
}

/** Reads GET / and refuses servers older than MINIMUM_QDRANT_VERSION; returns the version. */
export async function checkServerVersion(rest: Rest, location: string): Promise<string> {
  let root: { version?: unknown } | undefined;
  try {
    root = await rest<{ version?: unknown } | undefined>("version check", { method: "GET", path: "/" });
  } catch (error) {
    // At open, an unreachable server is most often a wrong URI or a server not started: say so.
    if (isAppError(error) && error.code === "dependency_unavailable")
      throw new AppError(
        "dependency_unavailable",
        `cannot reach Qdrant at ${location}: start it there, or fix the store URI (--store qdrant:<http(s) url>)`,
        { cause: error },
      );
    throw error;
  }
  // GET / answers the version at the top level, not under `result`.
  const version = typeof root?.version === "string" ? root.version : undefined;
  if (version === undefined || !/^\d+\.\d+/.test(version)) return version ?? "unknown";
  if (compareVersions(version, MINIMUM_QDRANT_VERSION) < 0) {
    throw new AppError(
      "configuration_error",
      `The Qdrant server at ${location} is version ${version}; llm-twin needs Qdrant >= ${MINIMUM_QDRANT_VERSION} (Query API since 1.10, facets since 1.12). Upgrade the server.`,
      { details: { version, minimum: MINIMUM_QDRANT_VERSION } },
    );
  }
  return version;
}

export type CollectionInfo = {
  config?: {
    params?: {
      vectors?: Record<string, { size?: number; distance?: string }>;
      sparse_vectors?: Record<string, { modifier?: string }> | null;
    };
  };
  payload_schema?: Record<string, { data_type?: string }>;
};

/** Checks a collection made for llm-twin; returns its dense size and the keyword indexes to create. */
export function checkCollection(name: string, info: CollectionInfo): { dimensions: number; missingIndexes: string[] } {
  const rebuild = "re-ingest with `llm-twin ingest --recreate` to rebuild it";
  const dense = info.config?.params?.vectors?.[DENSE_VECTOR];
  if (typeof dense?.size !== "number") {
    throw new AppError(
      "configuration_error",
      `Qdrant collection ${name} has no "${DENSE_VECTOR}" vector: it was not made by llm-twin (${rebuild}, or choose another --store).`,
    );
  }
  if (dense.distance !== "Cosine") {
    throw new AppError(
      "configuration_error",
      `Qdrant collection ${name} uses ${dense.distance ?? "no"} distance; llm-twin scores with Cosine: ${rebuild}.`,
    );
  }
  const sparse = info.config?.params?.sparse_vectors?.[SPARSE_VECTOR];
  if (sparse?.modifier !== "idf") {
    throw new AppError(
      "configuration_error",
      `Qdrant collection ${name} has no "${SPARSE_VECTOR}" vector with the idf modifier, which lexical search needs: ${rebuild}.`,
    );
  }
  const schema = info.payload_schema ?? {};
  const missingIndexes = KEYWORD_INDEXES.filter((field) => schema[field]?.data_type !== "keyword");
  return { dimensions: dense.size, missingIndexes };
}
