/** The evaluation results as a terminal table, one JSON object, or a Markdown report. */
import type { EvaluationResult } from "./evaluate.js";

export type EvaluationRun = {
  dataset: string;
  description: string;
  split: string | null;
  store: string;
  embedder: string;
  queries: number;
  ingest: { documentsRead: number; chunksWritten: number; chunksUnchanged: number; durationMs: number };
  results: EvaluationResult[];
};

const fixed = (value: number, digits: number): string => (Number.isFinite(value) ? value.toFixed(digits) : "-");

function label(result: EvaluationResult): string {
  return result.reranker === null ? result.mode : `${result.mode} + rerank`;
}

function rows(run: EvaluationRun): string[][] {
  return run.results.map((result) => [
    label(result),
    fixed(result.metrics.ndcgAt10, 4),
    fixed(result.metrics.recallAt10, 4),
    fixed(result.metrics.recallAt100, 4),
    fixed(result.metrics.mrrAt10, 4),
    fixed(result.latency.p50Ms, 1),
    fixed(result.latency.p95Ms, 1),
    result.reranker === null ? "-" : fixed(result.rerankLatency.p50Ms, 1),
  ]);
}

const HEADER = ["mode", "nDCG@10", "recall@10", "recall@100", "MRR@10", "p50 ms", "p95 ms", "rerank p50 ms"];

export function formatEvaluationTable(run: EvaluationRun): string {
  const table = [HEADER, ...rows(run)];
  const widths = HEADER.map((_, column) => Math.max(...table.map((row) => (row[column] ?? "").length)));
  const line = (row: string[]) =>
    row
      .map((cell, column) => (column === 0 ? cell.padEnd(widths[column] ?? 0) : cell.padStart(widths[column] ?? 0)))
      .join("  ");
  const title = `${run.dataset}${run.split === null ? "" : ` (${run.split})`}: ${run.queries} queries, store ${run.store}, embedder ${run.embedder}`;
  return [title, line(HEADER), ...rows(run).map(line)].join("\n");
}

/** The JSON printed by --json: everything but the per-query outcomes. */
export function evaluationJson(run: EvaluationRun): Record<string, unknown> {
  return {
    ...run,
    results: run.results.map(({ perQuery: _perQuery, ...result }) => result),
  };
}

export function formatEvaluationMarkdown(run: EvaluationRun, command: string, now: Date = new Date()): string {
  const settings = run.results[0]?.settings;
  const lines = [
    `# Retrieval evaluation: ${run.dataset}${run.split === null ? "" : ` (${run.split})`}`,
    "",
    `- Date: ${now.toISOString()}`,
    `- Command: \`${command}\``,
    `- Data: ${run.description}`,
    `- Queries: ${run.queries}; store: \`${run.store}\`; embedder: \`${run.embedder}\``,
    `- Ingestion: ${run.ingest.documentsRead} documents read, ${run.ingest.chunksWritten} chunks written, ${run.ingest.chunksUnchanged} unchanged, ${(run.ingest.durationMs / 1000).toFixed(1)} s`,
    ...(settings === undefined
      ? []
      : [
          `- Settings: k ${settings.k}, depth ${settings.depth}, search limit ${settings.searchLimit} chunks, dense weight ${settings.hybridDenseWeight}, RRF k ${settings.rrfK}, self-query ${settings.selfQuery}, expansion ${settings.expandQueries}`,
        ]),
    "- Latency: whole `retrieve` call per query, sequential, wall clock (noisy on a loaded machine).",
    "",
    `| ${HEADER.join(" | ")} |`,
    `|${HEADER.map((_, index) => (index === 0 ? "---" : "---:")).join("|")}|`,
    ...rows(run).map((row) => `| ${row.join(" | ")} |`),
    "",
  ];
  return lines.join("\n");
}
