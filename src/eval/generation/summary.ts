/** Per-metric aggregates of a generation evaluation: mean, median, counts, per-author means, reasons of missing scores. */
import { JUDGE_METRICS, type JudgeMetric } from "../../preprocessing/index.js";
import { mean, percentile } from "../metrics.js";
import type { QuestionResult } from "./evaluate.js";

export type MetricKey =
  | JudgeMetric
  | "voice"
  | "voiceMargin"
  | "citationOverlap"
  | "words"
  | "totalMs"
  | "selfQueryMs"
  | "expansionMs"
  | "embeddingMs"
  | "searchMs"
  | "rerankMs"
  | "generationMs";

export type MetricDefinition = {
  key: MetricKey;
  label: string;
  unit: "score" | "margin" | "words" | "ms";
  judge: boolean;
};

export const METRICS: readonly MetricDefinition[] = [
  { key: "faithfulness", label: "faithfulness", unit: "score", judge: true },
  { key: "answerRelevance", label: "answer relevance", unit: "score", judge: true },
  { key: "contextPrecision", label: "context precision", unit: "score", judge: true },
  { key: "contextRecall", label: "context recall", unit: "score", judge: true },
  { key: "voice", label: "voice", unit: "score", judge: false },
  { key: "voiceMargin", label: "voice margin", unit: "margin", judge: false },
  { key: "citationOverlap", label: "citation overlap", unit: "score", judge: false },
  { key: "words", label: "length (words)", unit: "words", judge: false },
  { key: "totalMs", label: "latency total", unit: "ms", judge: false },
  { key: "selfQueryMs", label: "latency self-query", unit: "ms", judge: false },
  { key: "expansionMs", label: "latency expansion", unit: "ms", judge: false },
  { key: "embeddingMs", label: "latency embedding", unit: "ms", judge: false },
  { key: "searchMs", label: "latency search", unit: "ms", judge: false },
  { key: "rerankMs", label: "latency rerank", unit: "ms", judge: false },
  { key: "generationMs", label: "latency generation", unit: "ms", judge: false },
];

const TIMING_KEYS = new Set<MetricKey>([
  "totalMs",
  "selfQueryMs",
  "expansionMs",
  "embeddingMs",
  "searchMs",
  "rerankMs",
  "generationMs",
]);

/** The value of one metric for one question, or the reason it is missing. */
export function metricValue(
  result: QuestionResult,
  key: MetricKey,
): { value: number } | { value: null; reason: string } {
  if ((JUDGE_METRICS as readonly string[]).includes(key)) {
    const score = result.judge[key as JudgeMetric];
    if (score === undefined) return { value: null, reason: "no judge (--judge-url)" };
    return score.value === null ? { value: null, reason: score.reason } : { value: score.value };
  }
  if (key === "voice") return result.voice.value === null ? result.voice : { value: result.voice.value };
  if (key === "voiceMargin") return result.voice.value === null ? result.voice : { value: result.voice.margin };
  if (key === "citationOverlap") {
    const score = result.citationOverlap;
    return score.value === null ? score : { value: score.value };
  }
  if (result.error !== undefined) return { value: null, reason: `no answer: ${result.error.code}` };
  if (key === "words") return { value: result.words };
  if (TIMING_KEYS.has(key)) {
    const value = (result.timings as Record<string, unknown>)[key];
    return typeof value === "number" ? { value } : { value: null, reason: "not reported by the service" };
  }
  return { value: null, reason: "unknown metric" };
}

export type MetricSummary = {
  key: MetricKey;
  label: string;
  unit: MetricDefinition["unit"];
  count: number;
  missing: number;
  mean: number | null;
  median: number | null;
  values: number[];
  perAuthor: { author: string; count: number; mean: number | null }[];
  /** Distinct reasons of missing values, with how many questions each. */
  missingReasons: { reason: string; count: number }[];
};

export const NO_AUTHOR = "(no author)";

export function summarize(results: readonly QuestionResult[]): MetricSummary[] {
  const authors = [...new Set(results.map((result) => result.author ?? NO_AUTHOR))].sort();
  return METRICS.map((metric) => {
    const values: number[] = [];
    const byAuthor = new Map<string, number[]>();
    const reasons = new Map<string, number>();
    for (const result of results) {
      const outcome = metricValue(result, metric.key);
      if (outcome.value === null) {
        reasons.set(outcome.reason, (reasons.get(outcome.reason) ?? 0) + 1);
        continue;
      }
      values.push(outcome.value);
      const author = result.author ?? NO_AUTHOR;
      byAuthor.set(author, [...(byAuthor.get(author) ?? []), outcome.value]);
    }
    return {
      key: metric.key,
      label: metric.label,
      unit: metric.unit,
      count: values.length,
      missing: results.length - values.length,
      mean: values.length === 0 ? null : mean(values),
      median: values.length === 0 ? null : percentile(values, 0.5),
      values,
      perAuthor: authors.map((author) => {
        const own = byAuthor.get(author) ?? [];
        return { author, count: own.length, mean: own.length === 0 ? null : mean(own) };
      }),
      missingReasons: [...reasons.entries()]
        .sort((left, right) => right[1] - left[1])
        .map(([reason, count]) => ({ reason, count })),
    };
  });
}
