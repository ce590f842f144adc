/**
 * `llm-twin traces`: reads the RAG service's trace log over HTTP (GET /traces, /traces/:id) and
 * prints one line per request (or one request's spans), or JSON with --json.
 */
import type { Command } from "commander";
import { z } from "zod";
import { jsonOutputSetting, parseSettingValues, type Setting, schemas } from "../../config/settings.js";
import { AppError } from "../../errors/index.js";
import type { SpanRecord, TraceRecord } from "../../observability/tracing/index.js";
import { addSettingOptions } from "../settings-options.js";

async function getJson(url: string, apiKey: string | undefined, timeoutMs: number): Promise<unknown> {
  let response: Response;
  try {
    response = await fetch(url, {
      headers: apiKey === undefined ? {} : { authorization: `Bearer ${apiKey}` },
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    throw new AppError(
      "upstream_unavailable",
      `cannot reach the RAG service at ${url}: ${(error as Error).message}; start it (llm-twin serve or serve-rag) or point --url (LLM_TWIN_RAG_URL) at it`,
      { cause: error },
    );
  }
  const body = (await response.json().catch(() => undefined)) as
    | { error?: { code?: string; message?: string } }
    | undefined;
  if (!response.ok) {
    const detail = body?.error?.message ?? `HTTP ${response.status}`;
    throw new AppError(response.status === 404 ? "not_found" : "upstream_error", `${url}: ${detail}`);
  }
  return body;
}

const ms = (value: unknown) => (typeof value === "number" ? `${value.toFixed(value < 10 ? 2 : 0)} ms` : "-");

export function formatTraceLine(trace: TraceRecord): string {
  const author = trace.spans.find((span) => span.name === "self-query")?.attributes.authorName;
  const generation = trace.spans.find((span) => span.name === "generation")?.attributes;
  const query = String(trace.attributes.query ?? "").replace(/\s+/g, " ");
  return [
    new Date(trace.startTime).toISOString(),
    trace.id,
    trace.name.padEnd(8),
    trace.status === "ok" ? "ok   " : `error:${trace.error?.code ?? "?"}`,
    ms(trace.durationMs).padStart(10),
    `author=${typeof author === "string" ? author : "-"}`,
    generation === undefined ? "" : `tokens=${String(generation.promptTokens)}+${String(generation.completionTokens)}`,
    JSON.stringify(query.length > 60 ? `${query.slice(0, 57)}...` : query),
  ]
    .filter((part) => part !== "")
    .join("  ");
}

function formatSpan(span: SpanRecord): string {
  const attributes = Object.entries(span.attributes)
    .map(([key, value]) => `${key}=${JSON.stringify(value)}`)
    .join(" ");
  const status = span.error === undefined ? "" : ` [${span.error.code}: ${span.error.message}]`;
  return `  ${span.name.padEnd(16)} ${ms(span.durationMs).padStart(10)}${status}  ${attributes}`;
}

type FeedbackView = { traceId: string; rating: string; comment?: string; createdAt: string; trace: TraceRecord };

/** One rated answer: rating and comment, the trace line, then the prompt as sent and the answer. */
export function formatFeedback(entry: FeedbackView): string {
  const prompt = entry.trace.spans.find((span) => span.name === "prompt")?.attributes;
  const messages = Array.isArray(prompt?.promptMessages)
    ? (prompt.promptMessages as { role: string; content: string }[]).map(
        (message) => `[${message.role}] ${message.content}`,
      )
    : typeof prompt?.promptText === "string"
      ? [prompt.promptText]
      : ["(the trace kept no prompt: --trace-prompts off)"];
  const answer = entry.trace.attributes.answer;
  return [
    `${entry.createdAt}  rating=${entry.rating}${entry.comment === undefined ? "" : `  "${entry.comment}"`}`,
    formatTraceLine(entry.trace),
    "--- prompt",
    ...messages,
    "--- answer",
    typeof answer === "string" ? answer : "(none)",
  ].join("\n");
}

/** `traces`' settings (src/config/settings.ts). */
export const TRACES_SETTINGS = [
  {
    key: "url",
    flag: "--url <url>",
    env: "LLM_TWIN_RAG_URL",
    schema: z.url({ protocol: /^https?$/, error: "must be an http(s) URL of the RAG service (http://host:port)" }),
    default: "http://localhost:3000",
    help: "RAG service URL",
  },
  {
    key: "limit",
    flag: "--limit <n>",
    env: "LLM_TWIN_TRACES_LIMIT",
    schema: schemas.positiveInteger,
    default: "20",
    help: "how many traces",
  },
  {
    key: "apiKey",
    flag: "--api-key <key>",
    env: "LLM_TWIN_API_KEY",
    schema: schemas.text.optional(),
    help: "bearer key when the service needs one",
  },
  {
    key: "timeoutMs",
    flag: "--timeout-ms <ms>",
    env: "LLM_TWIN_TRACES_TIMEOUT_MS",
    schema: schemas.positiveInteger,
    default: "10000",
    help: "HTTP timeout",
  },
  jsonOutputSetting("print JSON"),
  {
    key: "feedback",
    flag: "--feedback <rating>",
    env: "LLM_TWIN_TRACES_FEEDBACK",
    schema: z.enum(["up", "down", "any"], { error: "must be up, down or any" }).optional(),
    choices: ["up", "down", "any"],
    help: "the answers users rated, newest first, with their full prompts",
  },
] as const satisfies readonly Setting[];

export function registerTracesCommand(program: Command): void {
  const command = program
    .command("traces")
    .description(
      "Show the RAG service's latest request traces (or one trace with its spans, or the rated answers with --feedback)",
    )
    .argument("[id]", "a trace id: show that trace's spans");
  addSettingOptions(command, TRACES_SETTINGS).action(async (id: string | undefined, raw: Record<string, unknown>) => {
    const options = parseSettingValues(TRACES_SETTINGS, raw);
    const { limit, timeoutMs } = options;
    const base = options.url.replace(/\/+$/, "");
    if (options.feedback !== undefined) {
      const rating = options.feedback === "any" ? "" : `&rating=${options.feedback}`;
      const { feedback } = (await getJson(`${base}/feedback?limit=${limit}${rating}`, options.apiKey, timeoutMs)) as {
        feedback: FeedbackView[];
      };
      if (options.json === true) process.stdout.write(`${JSON.stringify(feedback, null, 2)}\n`);
      else
        process.stdout.write(
          feedback.length === 0 ? "no feedback yet\n" : `${feedback.map(formatFeedback).join("\n\n")}\n`,
        );
      return;
    }
    if (id !== undefined) {
      const trace = (await getJson(
        `${base}/traces/${encodeURIComponent(id)}`,
        options.apiKey,
        timeoutMs,
      )) as TraceRecord;
      if (options.json === true) {
        process.stdout.write(`${JSON.stringify(trace, null, 2)}\n`);
        return;
      }
      process.stdout.write(`${formatTraceLine(trace)}\n${trace.spans.map(formatSpan).join("\n")}\n`);
      return;
    }
    const { traces } = (await getJson(`${base}/traces?limit=${limit}`, options.apiKey, timeoutMs)) as {
      traces: TraceRecord[];
    };
    if (options.json === true) {
      process.stdout.write(`${JSON.stringify(traces, null, 2)}\n`);
      return;
    }
    if (traces.length === 0) {
      process.stdout.write("no traces yet\n");
      return;
    }
    process.stdout.write(`${traces.map(formatTraceLine).join("\n")}\n`);
  });
}
