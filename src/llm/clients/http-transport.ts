/**
 * The small HTTP layer shared by the TGI and OpenAI-compatible clients: JSON POST/GET with a
 * bounded response size, status → AppError mapping, and SSE responses as parsed events.
 */
import { AppError } from "../../errors/index.js";
import { parseSseStream, type ServerSentEvent } from "./sse-parser.js";
import { errorFromStatus, parseRetryAfter } from "./upstream-errors.js";

export type HttpTransport = {
  baseUrl: string;
  headers: Record<string, string>;
  /** Name used in error messages, e.g. "TGI server". */
  service: string;
  /** Largest JSON response accepted, in bytes. */
  maxResponseBytes: number;
  fetch: typeof fetch;
};

export const DEFAULT_MAX_RESPONSE_BYTES = 8 * 1024 * 1024;
const MAX_ERROR_BODY_BYTES = 64 * 1024;

export function createHttpTransport(options: {
  url: string;
  service: string;
  headers?: Record<string, string> | undefined;
  maxResponseBytes?: number | undefined;
  fetch?: typeof fetch | undefined;
}): HttpTransport {
  let parsed: URL;
  try {
    parsed = new URL(options.url);
  } catch {
    throw new AppError("configuration_error", `Invalid ${options.service} URL: ${JSON.stringify(options.url)}`);
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw new AppError("configuration_error", `The ${options.service} URL must be http(s): ${options.url}`);
  }
  return {
    baseUrl: parsed.href.replace(/\/+$/, ""),
    headers: { ...options.headers },
    service: options.service,
    maxResponseBytes: options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES,
    fetch: options.fetch ?? globalThis.fetch,
  };
}

async function readLimited(response: Response, limit: number, service: string): Promise<string> {
  if (response.body === null) return "";
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let size = 0;
  let text = "";
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > limit) {
        await reader.cancel();
        throw new AppError("upstream_error", `The ${service} response is larger than ${limit} bytes`, {
          retryable: false,
        });
      }
      text += decoder.decode(value, { stream: true });
    }
  } finally {
    reader.releaseLock();
  }
  return text + decoder.decode();
}

async function failureOf(response: Response, service: string, url: string): Promise<AppError> {
  let body: unknown;
  try {
    const text = await readLimited(response, MAX_ERROR_BODY_BYTES, service);
    try {
      body = JSON.parse(text);
    } catch {
      body = text;
    }
  } catch {
    body = undefined;
  }
  return errorFromStatus(
    { status: response.status, body, retryAfterMs: parseRetryAfter(response.headers.get("retry-after")), url },
    service,
  );
}

export type JsonResponse = { status: number; headers: Headers; body: unknown };

export async function requestJson(
  transport: HttpTransport,
  request: { method: "GET" | "POST"; path: string; body?: unknown; signal: AbortSignal },
): Promise<JsonResponse> {
  const headers: Record<string, string> = { accept: "application/json", ...transport.headers };
  if (request.body !== undefined) headers["content-type"] = "application/json";
  const url = `${transport.baseUrl}${request.path}`;
  const response = await transport.fetch(url, {
    method: request.method,
    headers,
    signal: request.signal,
    ...(request.body === undefined ? {} : { body: JSON.stringify(request.body) }),
  });
  if (!response.ok) throw await failureOf(response, transport.service, url);
  const text = await readLimited(response, transport.maxResponseBytes, transport.service);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new AppError("upstream_error", `The ${transport.service} answered with a body that is not JSON`, {
      retryable: false,
    });
  }
  return { status: response.status, headers: response.headers, body };
}

/** GET a path and report whether it answered 2xx (the body is discarded). */
export async function probe(transport: HttpTransport, path: string, signal: AbortSignal): Promise<boolean> {
  const response = await transport.fetch(`${transport.baseUrl}${path}`, {
    method: "GET",
    headers: transport.headers,
    signal,
  });
  await response.body?.cancel().catch(() => undefined);
  return response.ok;
}

/** POST a JSON body and return the SSE events of the answer (after checking the status). */
export async function requestEventStream(
  transport: HttpTransport,
  request: { path: string; body: unknown; signal: AbortSignal },
): Promise<AsyncIterable<ServerSentEvent>> {
  const url = `${transport.baseUrl}${request.path}`;
  const response = await transport.fetch(url, {
    method: "POST",
    headers: { accept: "text/event-stream", "content-type": "application/json", ...transport.headers },
    body: JSON.stringify(request.body),
    signal: request.signal,
  });
  if (!response.ok) throw await failureOf(response, transport.service, url);
  const contentType = response.headers.get("content-type") ?? "";
  if (!contentType.includes("text/event-stream")) {
    await response.body?.cancel().catch(() => undefined);
    throw new AppError("upstream_error", `The ${transport.service} did not answer with an event stream`, {
      retryable: false,
    });
  }
  const body = response.body;
  if (body === null) {
    throw new AppError("upstream_error", `The ${transport.service} sent an empty stream`, { retryable: false });
  }
  return parseSseStream(body as unknown as AsyncIterable<Uint8Array>);
}
