// The service's HTTP API as the page uses it: JSON calls, the /rag event stream, and errors turned
// into plain sentences. Same origin; the API key (when set) goes as a bearer token.

/** A failed call: `kind` is network | unauthorized | overloaded | unavailable | input | server | aborted. */
export class ApiError extends Error {
  constructor(kind, message, { status = 0, code = "", requestId = "" } = {}) {
    super(message);
    this.name = "ApiError";
    this.kind = kind;
    this.status = status;
    this.code = code;
    this.requestId = requestId;
  }
}

const UNAVAILABLE_CODES = new Set([
  "upstream_unavailable",
  "upstream_error",
  "dependency_unavailable",
  "model_loading",
  "shutting_down",
  "timeout",
]);

/** Turns an error code (from a status or an SSE error event) into a sentence a user can act on. */
export function describeFailure(status, code, message, requestId) {
  const detail = message ? ` (${message})` : "";
  const reference = requestId ? ` Request id: ${requestId}.` : "";
  if (status === 401 || code === "unauthorized") {
    return new ApiError("unauthorized", `An API key is needed or the key was refused${detail}.`, {
      status,
      code,
      requestId,
    });
  }
  if (status === 429 || code === "overloaded" || code === "rate_limited") {
    return new ApiError(
      "overloaded",
      `The service is overloaded: too many requests right now${detail}. Wait a moment and try again.${reference}`,
      { status, code, requestId },
    );
  }
  if (status === 503 || status === 502 || status === 504 || UNAVAILABLE_CODES.has(code)) {
    return new ApiError(
      "unavailable",
      `The language model is unavailable${detail}. Try again in a moment.${reference}`,
      { status, code, requestId },
    );
  }
  if (code === "aborted") return new ApiError("aborted", "Stopped.", { status, code, requestId });
  if (status >= 400 && status < 500) {
    return new ApiError(
      "input",
      `The request was not accepted${detail}. Check the question and the settings.${reference}`,
      {
        status,
        code,
        requestId,
      },
    );
  }
  return new ApiError("server", `The service failed${detail}. Try again.${reference}`, { status, code, requestId });
}

function networkError(error) {
  if (error?.name === "AbortError") return new ApiError("aborted", "Stopped.");
  return new ApiError("network", "Network lost: the service could not be reached. Check the connection and try again.");
}

async function failureFrom(response) {
  let code = "";
  let message = "";
  let requestId = response.headers.get("x-request-id") ?? "";
  try {
    const body = await response.json();
    code = body?.error?.code ?? "";
    message = body?.error?.message ?? "";
    requestId = body?.error?.requestId ?? requestId;
  } catch {
    message = response.statusText;
  }
  return describeFailure(response.status, code, message, requestId);
}

function headersFor(key, extra) {
  const headers = { ...extra };
  if (key) headers.authorization = `Bearer ${key}`;
  return headers;
}

/** GET a JSON resource. */
export async function getJson(path, { key, signal } = {}) {
  let response;
  try {
    response = await fetch(path, { headers: headersFor(key, { accept: "application/json" }), signal });
  } catch (error) {
    throw networkError(error);
  }
  if (!response.ok) throw await failureFrom(response);
  return response.json();
}

/** Splits a growing SSE text into complete events; returns the events and the unparsed rest. */
export function parseEvents(buffer) {
  const events = [];
  let rest = buffer.replaceAll("\r\n", "\n");
  for (let end = rest.indexOf("\n\n"); end !== -1; end = rest.indexOf("\n\n")) {
    const frame = rest.slice(0, end);
    rest = rest.slice(end + 2);
    let event = "message";
    const data = [];
    for (const line of frame.split("\n")) {
      if (line.startsWith("event:")) event = line.slice(6).trim();
      else if (line.startsWith("data:")) data.push(line.slice(5).trimStart());
    }
    if (data.length > 0) events.push({ event, data: JSON.parse(data.join("\n")) });
  }
  return { events, rest };
}

/** POST /feedback: a thumbs up or down (and an optional comment) on the answer of `traceId`. */
export async function postFeedback(body, { key } = {}) {
  let response;
  try {
    response = await fetch("/feedback", {
      method: "POST",
      headers: headersFor(key, { "content-type": "application/json", accept: "application/json" }),
      body: JSON.stringify(body),
    });
  } catch (error) {
    throw networkError(error);
  }
  if (!response.ok) throw await failureFrom(response);
  return response.json();
}

/**
 * POST /rag as a stream: yields {event, data} for `trace` (the answer's trace id, first),
 * `sources`, `token`, `done` and `error`. Aborting
 * `signal` closes the connection, which makes the service cancel the generation.
 */
export async function* streamRag(body, { key, signal } = {}) {
  let response;
  try {
    response = await fetch("/rag", {
      method: "POST",
      headers: headersFor(key, { "content-type": "application/json", accept: "text/event-stream" }),
      body: JSON.stringify({ ...body, stream: true }),
      signal,
    });
  } catch (error) {
    throw networkError(error);
  }
  if (!response.ok) throw await failureFrom(response);
  const traceId = response.headers.get("x-trace-id");
  if (traceId) yield { event: "trace", data: { traceId } };
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  try {
    for (;;) {
      let chunk;
      try {
        chunk = await reader.read();
      } catch (error) {
        throw networkError(error);
      }
      if (chunk.done) break;
      buffer += decoder.decode(chunk.value, { stream: true });
      const parsed = parseEvents(buffer);
      buffer = parsed.rest;
      for (const event of parsed.events) yield event;
    }
  } finally {
    reader.cancel().catch(() => {});
  }
}
