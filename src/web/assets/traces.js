// The traces view: the service's latest request traces (GET /traces), each drawn as a waterfall of
// its steps (generation marks its first token), with the author, the expanded queries, the sources
// and their scores, the online eval scores, the full prompt and the answer's feedback (GET /feedback).
import { element, formatMs } from "./dom.js";

const TRACE_LIMIT = 25;
const FEEDBACK_LIMIT = 500;

function span(trace, name) {
  return (trace.spans ?? []).find((item) => item.name === name);
}

function authorOf(trace) {
  const selfQuery = span(trace, "self-query")?.attributes ?? {};
  if (selfQuery.authorName) return `${selfQuery.authorName} (${selfQuery.source ?? "?"})`;
  if (trace.attributes?.requestedAuthor) return `${trace.attributes.requestedAuthor} (requested)`;
  return "any author";
}

function sourcesOf(trace) {
  const rerank = span(trace, "rerank")?.attributes ?? {};
  const ids = Array.isArray(rerank.ids) ? rerank.ids : (trace.attributes?.sourceIds ?? []);
  const scores = Array.isArray(rerank.scores) ? rerank.scores : [];
  const chunks = span(trace, "prompt")?.attributes?.retrievedChunks;
  const titles = new Map(Array.isArray(chunks) ? chunks.map((chunk) => [chunk.id, chunk.title]) : []);
  return ids.map((id, index) =>
    element("li", {}, [
      titles.has(id) ? `${titles.get(id)} ` : "",
      element("code", {}, String(id)),
      typeof scores[index] === "number" ? ` score ${scores[index].toFixed(3)}` : "",
    ]),
  );
}

/** A bar placed on the trace's time axis (percentages of the whole trace). */
function bar(trace, item) {
  const total = Math.max(trace.durationMs ?? 0, 1e-6);
  const offset = Math.min(Math.max((item.startTime - trace.startTime) / total, 0), 1);
  const width = Math.min(Math.max((item.durationMs ?? 0) / total, 0), 1 - offset);
  const node = element("span", { className: "waterfall-bar" });
  node.style.left = `${(offset * 100).toFixed(2)}%`;
  node.style.width = `max(2px, ${(width * 100).toFixed(2)}%)`;
  const firstToken = item.attributes?.timeToFirstTokenMs;
  if (item.name === "generation" && typeof firstToken === "number" && item.durationMs > 0) {
    const mark = element("span", { className: "waterfall-ttft", title: `first token after ${formatMs(firstToken)}` });
    mark.style.left = `${Math.min((firstToken / item.durationMs) * 100, 100).toFixed(2)}%`;
    node.append(mark);
  }
  return element("span", { className: "waterfall-track" }, node);
}

/** The steps as a waterfall: one row per span, its bar where it ran within the trace. */
function waterfall(trace) {
  const spans = [...(trace.spans ?? [])].sort((a, b) => a.startTime - b.startTime);
  const rows = spans.map((item) => {
    const firstToken = item.attributes?.timeToFirstTokenMs;
    const time =
      item.name === "generation" && typeof firstToken === "number"
        ? `${formatMs(item.durationMs)} (first token ${formatMs(firstToken)})`
        : formatMs(item.durationMs);
    return element("tr", { className: item.status === "error" ? "step-error" : "", "data-step": item.name }, [
      element("th", { scope: "row" }, item.name),
      element("td", { className: "waterfall-cell" }, bar(trace, item)),
      element("td", { className: "step-time" }, time),
      element(
        "td",
        {},
        item.status === "error" ? `error: ${item.error?.code ?? ""} ${item.error?.message ?? ""}` : "ok",
      ),
    ]);
  });
  return element("table", { className: "steps waterfall" }, [
    element("caption", { className: "visually-hidden" }, "Steps, as a waterfall over the request's time"),
    element(
      "thead",
      {},
      element("tr", {}, [
        element("th", { scope: "col" }, "Step"),
        element("th", { scope: "col" }, "Timeline"),
        element("th", { scope: "col" }, "Time"),
        element("th", { scope: "col" }, "Status"),
      ]),
    ),
    element("tbody", {}, rows),
  ]);
}

/** The full prompt as the LLM received it (a completion text or chat messages), when captured. */
function promptOf(trace) {
  const attributes = span(trace, "prompt")?.attributes ?? {};
  if (typeof attributes.promptText === "string") return attributes.promptText;
  if (Array.isArray(attributes.promptMessages)) {
    return attributes.promptMessages.map((message) => `[${message.role}]\n${message.content}`).join("\n\n");
  }
  return undefined;
}

/** Online evaluation scores (attributes.onlineEval), flattened to "name: value" lines. */
function scoresOf(trace) {
  const scores = trace.attributes?.onlineEval;
  if (typeof scores !== "object" || scores === null) return [];
  const lines = [];
  const walk = (prefix, value) => {
    if (typeof value === "number") lines.push(`${prefix}: ${Number.isInteger(value) ? value : value.toFixed(3)}`);
    else if (typeof value === "string" || typeof value === "boolean") lines.push(`${prefix}: ${value}`);
    else if (value === null) lines.push(`${prefix}: –`);
    else if (typeof value === "object") {
      for (const [key, inner] of Object.entries(value)) walk(prefix ? `${prefix}.${key}` : key, inner);
    }
  };
  walk("", scores);
  return lines;
}

function feedbackOf(entries) {
  if (!entries || entries.length === 0) return "–";
  return element(
    "ul",
    { className: "trace-feedback" },
    entries.map((entry) =>
      element("li", { "data-rating": entry.rating }, [
        element("strong", {}, entry.rating === "up" ? "Good answer" : "Bad answer"),
        entry.comment ? ` “${entry.comment}”` : "",
        element("span", { className: "trace-time" }, ` ${new Date(entry.createdAt).toLocaleString()}`),
      ]),
    ),
  );
}

export function traceItem(trace, feedback = []) {
  const attributes = trace.attributes ?? {};
  const queries = span(trace, "query-expansion")?.attributes?.queries;
  const started = new Date(trace.startTime).toLocaleTimeString();
  const status = trace.status === "error" ? `error ${trace.error?.code ?? ""}` : "ok";
  const sources = sourcesOf(trace);
  const scores = scoresOf(trace);
  const prompt = promptOf(trace);
  return element("li", { className: `trace trace-${trace.status}`, "data-trace-id": trace.id }, [
    element("details", {}, [
      element("summary", {}, [
        element("span", { className: "trace-time" }, started),
        " ",
        element("span", { className: "trace-name" }, `${trace.name}`),
        " ",
        element("span", { className: "trace-status" }, status),
        " ",
        element("span", { className: "trace-duration" }, formatMs(trace.durationMs)),
        " — ",
        element("span", { className: "trace-query" }, String(attributes.query ?? "")),
      ]),
      element("dl", { className: "trace-facts" }, [
        element("dt", {}, "Author"),
        element("dd", { className: "trace-author" }, authorOf(trace)),
        element("dt", {}, "Queries"),
        element(
          "dd",
          {},
          Array.isArray(queries) && queries.length > 0
            ? element(
                "ol",
                { className: "trace-queries" },
                queries.map((query) => element("li", {}, String(query))),
              )
            : "–",
        ),
        element("dt", {}, "Sources"),
        element("dd", {}, sources.length > 0 ? element("ol", { className: "trace-sources" }, sources) : "–"),
        element("dt", {}, "Tokens"),
        element("dd", {}, `${attributes.promptTokens ?? "–"} prompt, ${attributes.completionTokens ?? "–"} generated`),
        trace.error ? element("dt", {}, "Error") : null,
        trace.error ? element("dd", {}, `${trace.error.code}: ${trace.error.message}`) : null,
      ]),
      waterfall(trace),
      element("dl", { className: "trace-facts" }, [
        element("dt", {}, "Feedback"),
        element("dd", {}, feedbackOf(feedback)),
        element("dt", {}, "Scores"),
        element(
          "dd",
          {},
          scores.length > 0
            ? element(
                "ul",
                { className: "trace-scores" },
                scores.map((line) => element("li", {}, line)),
              )
            : "–",
        ),
      ]),
      prompt === undefined
        ? null
        : element("details", { className: "trace-prompt" }, [
            element("summary", {}, "Full prompt"),
            element("pre", {}, prompt),
          ]),
    ]),
  ]);
}

/** Loads and renders the traces; failures land in the status line. */
export async function renderTraces({ list, status, load }) {
  status.textContent = "Loading traces…";
  try {
    const [body, feedback] = await Promise.all([
      load(`/traces?limit=${TRACE_LIMIT}`),
      // Feedback is extra: without it (store down, older service) the traces still show.
      load(`/feedback?limit=${FEEDBACK_LIMIT}`).catch(() => ({ feedback: [] })),
    ]);
    const traces = body.traces ?? [];
    const byTrace = new Map();
    for (const entry of feedback.feedback ?? []) {
      byTrace.set(entry.traceId, [...(byTrace.get(entry.traceId) ?? []), entry]);
    }
    list.replaceChildren(...traces.map((trace) => traceItem(trace, byTrace.get(trace.id))));
    status.textContent =
      traces.length === 0 ? "No requests yet." : `${traces.length} most recent requests, newest first.`;
  } catch (error) {
    status.textContent = `Could not load the traces: ${error.message}`;
    throw error;
  }
}
