// The traces view: the service's latest request traces (GET /traces) with their steps and timings,
// the author, the expanded queries and the sources kept.
import { element, formatMs } from "./dom.js";

const TRACE_LIMIT = 25;

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
  return ids.map((id, index) =>
    element("li", {}, [
      element("code", {}, String(id)),
      typeof scores[index] === "number" ? ` score ${scores[index].toFixed(3)}` : "",
    ]),
  );
}

function stepsTable(trace) {
  const rows = (trace.spans ?? []).map((item) =>
    element("tr", { className: item.status === "error" ? "step-error" : "" }, [
      element("th", { scope: "row" }, item.name),
      element("td", {}, formatMs(item.durationMs)),
      element(
        "td",
        {},
        item.status === "error" ? `error: ${item.error?.code ?? ""} ${item.error?.message ?? ""}` : "ok",
      ),
    ]),
  );
  return element("table", { className: "steps" }, [
    element("caption", { className: "visually-hidden" }, "Steps"),
    element(
      "thead",
      {},
      element("tr", {}, [
        element("th", { scope: "col" }, "Step"),
        element("th", { scope: "col" }, "Time"),
        element("th", { scope: "col" }, "Status"),
      ]),
    ),
    element("tbody", {}, rows),
  ]);
}

export function traceItem(trace) {
  const attributes = trace.attributes ?? {};
  const queries = span(trace, "query-expansion")?.attributes?.queries;
  const started = new Date(trace.startTime).toLocaleTimeString();
  const status = trace.status === "error" ? `error ${trace.error?.code ?? ""}` : "ok";
  const sources = sourcesOf(trace);
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
      stepsTable(trace),
    ]),
  ]);
}

/** Loads and renders the traces; failures land in the status line. */
export async function renderTraces({ list, status, load }) {
  status.textContent = "Loading traces…";
  try {
    const body = await load(`/traces?limit=${TRACE_LIMIT}`);
    const traces = body.traces ?? [];
    list.replaceChildren(...traces.map(traceItem));
    status.textContent =
      traces.length === 0 ? "No requests yet." : `${traces.length} most recent requests, newest first.`;
  } catch (error) {
    status.textContent = `Could not load the traces: ${error.message}`;
    throw error;
  }
}
