/**
 * What of the prompts and answers a trace keeps (`--trace-prompts`): `full` (everything: query,
 * prompt, retrieved chunks, answer), `redacted` (the same with emails, API keys and tokens, and
 * numbers that look like secrets masked) or `off` (no content at all: sizes, ids, scores, timings
 * and token counts stay). Applied once when a trace ends, before any sink (log file, /traces, OTLP)
 * sees it, so nothing downstream can leak what the policy removed.
 */
import type { Attributes, SpanRecord, TraceRecord } from "./types.js";

export type PromptCapture = "full" | "redacted" | "off";
export const PROMPT_CAPTURE_MODES: readonly PromptCapture[] = ["full", "redacted", "off"];
export const DEFAULT_PROMPT_CAPTURE: PromptCapture = "full";

/** Attribute keys (on the trace or any span) that hold user or document text. */
export const CONTENT_ATTRIBUTES: ReadonlySet<string> = new Set([
  "query",
  "queries",
  "answer",
  "promptMessages",
  "promptText",
  "retrievedChunks",
]);

const PATTERNS: readonly [RegExp, string][] = [
  [/[\p{L}\p{N}._%+-]+@[\p{L}\p{N}.-]+\.\p{L}{2,}/gu, "[email]"],
  [/\b(?:bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}/gi, "[key]"],
  [/\b(?:sk|pk|rk)[-_][A-Za-z0-9_-]{16,}\b/g, "[key]"],
  [/\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/g, "[key]"],
  [/\bgh[pousr]_[A-Za-z0-9]{30,}\b/g, "[key]"],
  [/\bxox[abprs]-[A-Za-z0-9-]{10,}\b/g, "[key]"],
  [/\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\b/g, "[key]"],
  [/\b((?:api[_-]?key|secret|token|password|passwd|pwd)\s*[:=]\s*)["']?[^\s"']{4,}["']?/gi, "$1[key]"],
  [/\b[0-9a-f]{32,}\b/gi, "[key]"],
  // Card, account and identity numbers: 12 or more digits, possibly grouped by spaces or dashes.
  [/\b\d(?:[ -]?\d){11,}\b/g, "[number]"],
  [/\b\d{3}-\d{2}-\d{4}\b/g, "[number]"],
];

export function redactText(text: string): string {
  let result = text;
  for (const [pattern, replacement] of PATTERNS) result = result.replace(pattern, replacement);
  return result;
}

function redactValue(value: unknown): unknown {
  if (typeof value === "string") return redactText(value);
  if (Array.isArray(value)) return value.map(redactValue);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([key, entry]) => [key, redactValue(entry)]));
  }
  return value;
}

function filterAttributes(attributes: Attributes, policy: PromptCapture): Attributes {
  const result: Attributes = {};
  for (const [key, value] of Object.entries(attributes)) {
    if (!CONTENT_ATTRIBUTES.has(key)) result[key] = value;
    else if (policy === "redacted") result[key] = redactValue(value);
  }
  return result;
}

export function applyPromptCapture(record: TraceRecord, policy: PromptCapture): TraceRecord {
  if (policy === "full") return record;
  return {
    ...record,
    attributes: { ...filterAttributes(record.attributes, policy), promptCapture: policy },
    spans: record.spans.map((span): SpanRecord => ({ ...span, attributes: filterAttributes(span.attributes, policy) })),
  };
}
