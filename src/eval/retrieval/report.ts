/** The evaluation results as a terminal table, one JSON object, or a Markdown report. */
import type { EvaluationResult, RetrievalMetrics } from "./evaluate.js";

export type EvaluationRun = {
  dataset: string;
  description: string;
  split: string | null;
  /** Which half of the queries ran (query-halves.ts). */
  queryHalf?: string;
  store: string;
  embedder: string;
  queries: number;
  ingest: { documentsRead: number; chunksWritten: number; chunksUnchanged: number; durationMs: number };
  results: EvaluationResult[];
};

const halfLabel = (run: EvaluationRun): string =>
  run.queryHalf === undefined || run.queryHalf === "all" ? "" : `, ${run.queryHalf} half`;

const fixed = (value: number, digits: number): string => (Number.isFinite(value) ? value.toFixed(digits) : "-");

function label(result: EvaluationResult): string {
  return result.reranker === null ? result.mode : `${result.mode} + rerank`;
}

const metricCells = (metrics: RetrievalMetrics): string[] => [
  fixed(metrics.ndcgAt10, 4),
  fixed(metrics.recallAt10, 4),
  fixed(metrics.recallAt100, 4),
  fixed(metrics.mrrAt10, 4),
  fixed(metrics.hitRateAt5, 4),
];

/** One row per result, then one per result and tagged subset ("hybrid [paraphrase, 12 queries]"). */
function rows(run: EvaluationRun): string[][] {
  const whole = run.results.map((result) => [
    label(result),
    ...metricCells(result.metrics),
    fixed(result.latency.p50Ms, 1),
    fixed(result.latency.p95Ms, 1),
    result.reranker === null ? "-" : fixed(result.rerankLatency.p50Ms, 1),
  ]);
  const subsets = run.results.flatMap((result) =>
    Object.entries(result.subsets ?? {}).map(([tag, subset]) => [
      `${label(result)} [${tag}, ${subset.queries} queries]`,
      ...metricCells(subset.metrics),
      "-",
      "-",
      "-",
    ]),
  );
  return [...whole, ...subsets];
}

const HEADER = ["mode", "nDCG@10", "recall@10", "recall@100", "MRR@10", "hit@5", "p50 ms", "p95 ms", "rerank p50 ms"];

export function formatEvaluationTable(run: EvaluationRun): string {
  const table = [HEADER, ...rows(run)];
  const widths = HEADER.map((_, column) => Math.max(...table.map((row) => (row[column] ?? "").length)));
  const line = (row: string[]) =>
    row
      .map((cell, column) => (column === 0 ? cell.padEnd(widths[column] ?? 0) : cell.padStart(widths[column] ?? 0)))
      .join("  ");
  const title = `${run.dataset}${run.split === null ? "" : ` (${run.split})`}${halfLabel(run)}: ${run.queries} queries, store ${run.store}, embedder ${run.embedder}`;
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
    `# Retrieval evaluation: ${run.dataset}${run.split === null ? "" : ` (${run.split})`}${halfLabel(run)}`,
    "",
    `- Date: ${now.toISOString()}`,
    `- Command: \`${command}\``,
    `- Data: ${run.description}`,
    `- Queries: ${run.queries}; store: \`${run.store}\`; embedder: \`${run.embedder}\``,
    `- Ingestion: ${run.ingest.documentsRead} documents read, ${run.ingest.chunksWritten} chunks written, ${run.ingest.chunksUnchanged} unchanged, ${(run.ingest.durationMs / 1000).toFixed(1)} s`,
    ...(settings === undefined
      ? []
      : [
          `- Settings: k ${settings.k}, depth ${settings.depth}, search limit ${settings.searchLimit} chunks, hybrid fusion ${settings.hybridFusion}, dense weight ${settings.hybridDenseWeight}, RRF k ${settings.rrfK}, title weight ${settings.titleWeight}, self-query ${settings.selfQuery}, expansion ${settings.expandQueries}`,
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
