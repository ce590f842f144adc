/**
 * The outputs of `llm-twin eval generation`: a terminal table (summary, then one line per
 * question with its trace id), one JSON object, and a Markdown report with one SVG chart per metric.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import type { QuestionResult } from "./evaluate.js";
import { type MetricSummary, metricValue, summarize } from "./summary.js";
import { metricChartSvg } from "./svg-chart.js";

export type GenerationRun = {
  questionsFile: string;
  twin: string;
  judge: { url: string; model: string; promptsVersion: string } | null;
  voice: { corpus: string; method: string; authors: string[] } | null;
  startedAt: string;
  seconds: number;
  results: QuestionResult[];
};

function cell(value: number | null, unit: MetricSummary["unit"]): string {
  if (value === null) return "-";
  if (unit === "ms") return value.toFixed(value < 10 ? 1 : 0);
  if (unit === "words") return value.toFixed(0);
  return value.toFixed(3);
}

function shortValue(result: QuestionResult, key: Parameters<typeof metricValue>[1], digits = 2): string {
  const outcome = metricValue(result, key);
  return outcome.value === null ? "-" : outcome.value.toFixed(digits);
}

export function formatGenerationTable(run: GenerationRun): string {
  const summaries = summarize(run.results);
  const authors = summaries[0]?.perAuthor.map((entry) => entry.author) ?? [];
  const lines = [
    `twin: ${run.twin}`,
    `judge: ${run.judge === null ? "none (judge metrics skipped; give --judge-url)" : `${run.judge.model} at ${run.judge.url} (prompts ${run.judge.promptsVersion})`}`,
    `questions: ${run.results.length} from ${run.questionsFile} in ${run.seconds.toFixed(1)} s`,
    "",
    `${"metric".padEnd(20)} ${"mean".padStart(8)} ${"median".padStart(8)} ${"n".padStart(4)} ${"miss".padStart(4)}  ${authors.map((author) => author.slice(0, 14).padStart(14)).join(" ")}`,
  ];
  for (const summary of summaries) {
    if (summary.count === 0 && summary.missing === run.results.length && summary.key.endsWith("Ms")) continue;
    lines.push(
      `${summary.label.padEnd(20)} ${cell(summary.mean, summary.unit).padStart(8)} ${cell(summary.median, summary.unit).padStart(8)} ${String(summary.count).padStart(4)} ${String(summary.missing).padStart(4)}  ${summary.perAuthor.map((entry) => cell(entry.mean, summary.unit).padStart(14)).join(" ")}`,
    );
  }
  lines.push(
    "",
    `${"id".padEnd(8)} ${"author".padEnd(15)} voice  cite  faith relev cprec crec  ${"ms".padStart(6)}  trace id`,
  );
  for (const result of run.results) {
    lines.push(
      [
        result.id.slice(0, 8).padEnd(8),
        (result.author ?? "-").slice(0, 15).padEnd(15),
        shortValue(result, "voice").padStart(5),
        shortValue(result, "citationOverlap").padStart(5),
        shortValue(result, "faithfulness").padStart(5),
        shortValue(result, "answerRelevance").padStart(5),
        shortValue(result, "contextPrecision").padStart(5),
        shortValue(result, "contextRecall").padStart(5),
        result.timings.totalMs.toFixed(0).padStart(6),
        ` ${result.traceId ?? "-"}${result.error === undefined ? "" : `  error ${result.error.code}: ${result.error.message}`}`,
      ].join(" "),
    );
  }
  return lines.join("\n");
}

export function generationJson(run: GenerationRun) {
  return {
    questionsFile: run.questionsFile,
    twin: run.twin,
    judge: run.judge,
    voice: run.voice,
    startedAt: run.startedAt,
    seconds: run.seconds,
    summary: summarize(run.results).map(({ values: _values, ...summary }) => summary),
    results: run.results,
  };
}

/** Writes the Markdown report and its charts (`<report name>-charts/<metric>.svg` beside it). */
export async function writeGenerationReport(run: GenerationRun, file: string, command: string): Promise<string[]> {
  const summaries = summarize(run.results);
  const chartsFolder = `${basename(file).replace(/\.md$/i, "")}-charts`;
  const chartsDir = join(dirname(file), chartsFolder);
  await mkdir(chartsDir, { recursive: true });
  const charts: string[] = [];
  const lines = [
    "# Generation evaluation",
    "",
    `- command: \`${command}\``,
    `- started: ${run.startedAt}, ${run.seconds.toFixed(1)} s, ${run.results.length} questions from \`${run.questionsFile}\``,
    `- twin: ${run.twin}`,
    `- judge: ${run.judge === null ? "none" : `\`${run.judge.model}\` at ${run.judge.url}, prompts ${run.judge.promptsVersion}`}`,
    `- voice model: ${run.voice === null ? "none" : `${run.voice.method} over \`${run.voice.corpus}\` (${run.voice.authors.join(", ")})`}`,
    "",
    "## Summary",
    "",
    `| metric | mean | median | n | missing | ${summaries[0]?.perAuthor.map((entry) => entry.author).join(" | ") ?? ""} |`,
    `|---|---:|---:|---:|---:|${summaries[0]?.perAuthor.map(() => "---:").join("|") ?? ""}|`,
  ];
  for (const summary of summaries) {
    lines.push(
      `| ${summary.label} | ${cell(summary.mean, summary.unit)} | ${cell(summary.median, summary.unit)} | ${summary.count} | ${summary.missing} | ${summary.perAuthor.map((entry) => cell(entry.mean, summary.unit)).join(" | ")} |`,
    );
  }
  const missing = summaries.filter((summary) => summary.missingReasons.length > 0);
  if (missing.length > 0) {
    lines.push("", "Missing scores, by reason:", "");
    for (const summary of missing) {
      for (const reason of summary.missingReasons) lines.push(`- ${summary.label}: ${reason.count} × ${reason.reason}`);
    }
  }
  lines.push("", "## Charts", "");
  for (const summary of summaries) {
    if (summary.count === 0) continue;
    const name = `${summary.key}.svg`;
    await writeFile(join(chartsDir, name), metricChartSvg(summary));
    charts.push(join(chartsDir, name));
    lines.push(`![${summary.label}](${chartsFolder}/${name})`, "");
  }
  lines.push(
    "## Answers",
    "",
    "Open one in the traces with `llm-twin traces <trace id>` (service runs) or in the evaluation's trace file.",
    "",
    "| id | author | voice | citation | faithfulness | relevance | ctx precision | ctx recall | ms | trace id | question |",
    "|---|---|---:|---:|---:|---:|---:|---:|---:|---|---|",
  );
  for (const result of run.results) {
    lines.push(
      `| ${result.id} | ${result.author ?? "-"} | ${shortValue(result, "voice")} | ${shortValue(result, "citationOverlap")} | ${shortValue(result, "faithfulness")} | ${shortValue(result, "answerRelevance")} | ${shortValue(result, "contextPrecision")} | ${shortValue(result, "contextRecall")} | ${result.timings.totalMs.toFixed(0)} | ${result.traceId === null ? "-" : `\`${result.traceId}\``} | ${escapeCell(result.question)}${result.error === undefined ? "" : ` (error ${result.error.code})`} |`,
    );
  }
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, `${lines.join("\n")}\n`);
  return charts;
}

function escapeCell(text: string): string {
  return text.replace(/\|/g, "\\|").replace(/\s+/g, " ");
}
