/** The human-readable end-of-run summary (stderr); `--json` prints the IngestSummary itself. */
import type { IngestSummary } from "./types.js";

const MAX_SKIPPED_SHOWN = 20;

export function formatIngestSummary(summary: IngestSummary): string {
  const rows: [string, string][] = [
    ["source", summary.source],
    ["store", summary.store],
    ["embedder", summary.embedder],
    ["documents read", String(summary.documentsRead)],
    ["documents unchanged", String(summary.documentsUnchanged)],
    ["documents skipped", String(summary.documentsSkipped.length)],
    ["documents pruned", String(summary.documentsPruned)],
    ["chunks written", String(summary.chunksWritten)],
    ["chunks unchanged", String(summary.chunksUnchanged)],
    ["chunks deleted", String(summary.chunksDeleted)],
    ["time", `${(summary.durationMs / 1000).toFixed(2)} s`],
    [
      "artifact",
      summary.artifact === null
        ? "(none)"
        : `${summary.artifact.version}${summary.artifact.created ? "" : " (unchanged)"} ${summary.artifact.path}`,
    ],
  ];
  if (summary.recreated) rows.splice(3, 0, ["recreated", "yes (store dropped first)"]);
  const width = Math.max(...rows.map(([label]) => label.length));
  const lines = rows.map(([label, value]) => `  ${label.padEnd(width)}  ${value}`);
  if (summary.documentsSkipped.length > 0) {
    lines.push("  skipped records:");
    for (const skipped of summary.documentsSkipped.slice(0, MAX_SKIPPED_SHOWN)) {
      lines.push(`    ${skipped.file}${skipped.index >= 0 ? `[${skipped.index}]` : ""}: ${skipped.reason}`);
    }
    if (summary.documentsSkipped.length > MAX_SKIPPED_SHOWN) {
      lines.push(`    ... and ${summary.documentsSkipped.length - MAX_SKIPPED_SHOWN} more (use --json for all)`);
    }
  }
  return `ingest summary\n${lines.join("\n")}\n`;
}
