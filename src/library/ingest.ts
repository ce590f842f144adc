/** `ingest` for the library: the feature pipeline, loaded on first call (it pulls in the preprocessing workers). */
import type { IngestOptions, IngestSummary } from "../ingestion/types.js";

/** Reads, cleans, chunks and embeds `source` (or `documents`) into `store`; resolves with the summary. */
export async function ingest(options: IngestOptions): Promise<IngestSummary> {
  const { ingest: run } = await import("../ingestion/pipeline.js");
  return run(options);
}
