/** Progress display of `llm-twin ingest` (direct ingestion): bar or plain lines on stderr. */
import type { IngestProgress } from "../../ingestion/types.js";
import { createProgress, type Progress } from "../../observability/progress.js";
import type { IngestCommandConfig } from "./ingest.js";

export function createIngestProgress(
  config: IngestCommandConfig,
  documentsTotal: number | undefined,
): Progress | undefined {
  if (config.progress === "none") return undefined;
  const isTTY = config.progress === "auto" ? process.stderr.isTTY === true : config.progress === "tty";
  return createProgress({
    label: "ingest",
    unit: "documents",
    rateOf: "chunks",
    isTTY,
    intervalMs: config.progressIntervalMs,
    ...(documentsTotal === undefined ? {} : { total: documentsTotal }),
  });
}

export function reportTo(progress: Progress): (update: IngestProgress) => void {
  return (update) =>
    progress.update({
      completed: update.documentsRead + update.documentsSkipped,
      counters: {
        chunks: update.chunksWritten + update.chunksUnchanged,
        written: update.chunksWritten,
        ...(update.documentsSkipped > 0 ? { skipped: update.documentsSkipped } : {}),
      },
    });
}
