/**
 * Qdrant's REST API, called directly with fetch: the caller's AbortSignal reaches the socket, the
 * base URL keeps its scheme's default port and any path prefix (a reverse proxy's `/qdrant`), and
 * every response is one of: the `result`, or an AppError with a stable code. Retryable failures
 * (429, 502–504, refused or reset connections) are retried with exponential backoff, honouring
 * `Retry-After` on 429. A transport is a function, so tests answer in-process (the fake server).
 */
import { AppError } from "../../errors/app-error.js";

export type QdrantRequest = {
  method: "GET" | "PUT" | "POST" | "DELETE" | "PATCH";
  /** Path from the API root, e.g. `/collections/embedded_posts/points/query`. */
  path: string;
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  signal?: AbortSignal;
};

export type QdrantResponse = { status: number; headers: Record<string, string>; body: unknown };

/** Sends one request; rejects only when no HTTP answer came (network, abort). */
export type QdrantTransport = (request: QdrantRequest) => Promise<QdrantResponse>;

export type FetchTransportOptions = {
  /** Base URL of the REST API (path prefix kept, default port of the scheme). */
  url: string;
  apiKey?: string;
};

export function createFetchTransport(options: FetchTransportOptions): QdrantTransport {
  const base = options.url.replace(/\/+$/, "");
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (options.apiKey !== undefined) headers["api-key"] = options.apiKey;
  return async (request) => {
    const url = new URL(`${base}${request.path}`);
    for (const [key, value] of Object.entries(request.query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, String(value));
    }
    const response = await fetch(url, {
      method: request.method,
      headers,
      ...(request.body === undefined ? {} : { body: JSON.stringify(request.body) }),
      ...(request.signal === undefined ? {} : { signal: request.signal }),
    });
    const text = await response.text();
    let body: unknown = text;
    try {
      body = text.length === 0 ? undefined : JSON.parse(text);
    } catch {
      // Not JSON (a proxy's error page): kept as text for the error message.
    }
    return { status: response.status, headers: Object.fromEntries(response.headers.entries()), body };
  };
}

export type RestOptions = {
  transport: QdrantTransport;
  /** For messages: `qdrant:<url>`. */
  location: string;
  /** Deadline of each attempt (ms); also sent as Qdrant's server-side `timeout` (s) where accepted. */
  timeoutMs: number;
  /** Retries after the first attempt of a retryable failure. */
  retries: number;
  /** First backoff delay (ms), doubled each retry; Retry-After wins when larger. */
  backoffMs: number;
};

/** Operations whose REST route accepts `?timeout=` (seconds). */
const SERVER_TIMEOUT =
  /\/points(\/query(\/batch)?|\/scroll|\/count|\/delete)?$|\/facet$|\/index$|^\/collections\/[^/]+$/;

export type Rest = <T>(what: string, request: QdrantRequest) => Promise<T>;

export function createRest(options: RestOptions): Rest {
  return async <T>(what: string, request: QdrantRequest): Promise<T> => {
    const described = `${what} (${options.location})`;
    for (let attempt = 0; ; attempt++) {
      throwIfAborted(request.signal, described);
      const deadline = AbortSignal.timeout(options.timeoutMs);
      const signal = request.signal === undefined ? deadline : AbortSignal.any([request.signal, deadline]);
      const query = { ...request.query };
      if (SERVER_TIMEOUT.test(request.path) && request.method !== "GET") {
        query.timeout ??= Math.max(1, Math.floor(options.timeoutMs / 1000));
      }
      let response: QdrantResponse;
      try {
        response = await options.transport({ ...request, query, signal });
      } catch (error) {
        throwIfAborted(request.signal, described);
        const failure = deadline.aborted
          ? new AppError("timeout", `Qdrant did not answer within ${options.timeoutMs} ms: ${described}.`, {
              cause: error,
            })
          : new AppError("dependency_unavailable", `Qdrant is unreachable: ${described}.`, { cause: error });
        if (attempt >= options.retries) throw failure;
        await sleep(backoff(options, attempt), request.signal);
        continue;
      }
      if (response.status >= 200 && response.status < 300) {
        // Every route answers {result, status, time}, except GET / (the version, at the top level).
        const body = response.body as Record<string, unknown> | undefined;
        return (typeof body === "object" && body !== null && "result" in body ? body.result : body) as T;
      }
      const failure = responseError(response, described);
      if (!failure.retryable || attempt >= options.retries) throw failure;
      const retryAfter = retryAfterMs(response.headers["retry-after"]);
      await sleep(Math.max(backoff(options, attempt), retryAfter ?? 0), request.signal);
    }
  };
}

function backoff(options: RestOptions, attempt: number): number {
  return options.backoffMs * 2 ** attempt;
}

/** Retry-After as milliseconds: delta-seconds or an HTTP date. */
export function retryAfterMs(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/** The server's own error text (`status.error`), shortened. */
export function serverMessage(body: unknown): string | undefined {
  const error = (body as { status?: { error?: unknown } } | undefined)?.status?.error;
  if (typeof error === "string") return error.slice(0, 300);
  return typeof body === "string" && body.length > 0 ? body.slice(0, 120) : undefined;
}

export function responseError(response: QdrantResponse, what: string): AppError {
  const { status } = response;
  const said = serverMessage(response.body);
  const suffix = said === undefined ? "" : `: ${said}`;
  const details = { status, ...(said === undefined ? {} : { qdrant: said }) };
  switch (true) {
    case status === 401:
      return new AppError(
        "dependency_unavailable",
        `Qdrant refused the API key (HTTP 401): ${what}. Set LLM_TWIN_QDRANT_API_KEY to the server's key.`,
        { retryable: false, details },
      );
    case status === 403 && /lock/i.test(said ?? ""):
      return new AppError(
        "dependency_unavailable",
        `Qdrant is locked for writes (HTTP 403${suffix}): ${what}. Unlock it (POST /locks) and retry.`,
        { retryable: false, details },
      );
    case status === 403:
      return new AppError(
        "dependency_unavailable",
        `Qdrant refused this API key for the operation (HTTP 403${suffix}): ${what}. Use a key with write access (LLM_TWIN_QDRANT_API_KEY).`,
        { retryable: false, details },
      );
    case status === 408:
      return new AppError("timeout", `Qdrant timed out (HTTP 408${suffix}): ${what}.`, { details });
    case status === 413:
      return new AppError(
        "payload_too_large",
        `Qdrant refused a request as too large (HTTP 413): ${what}. Set LLM_TWIN_QDRANT_MAX_REQUEST_BYTES below the server's service.max_request_size_mb.`,
        { retryable: false, details },
      );
    case status === 429:
      return new AppError("dependency_unavailable", `Qdrant is overloaded (HTTP 429${suffix}): ${what}.`, {
        retryable: true,
        details,
      });
    case status === 502 || status === 503 || status === 504:
      return new AppError("dependency_unavailable", `Qdrant is unavailable (HTTP ${status}${suffix}): ${what}.`, {
        retryable: true,
        details,
      });
    default:
      return new AppError("upstream_error", `Qdrant failed (HTTP ${status}${suffix}): ${what}.`, {
        retryable: false,
        details,
      });
  }
}

export function isStatus(error: unknown, status: number): boolean {
  return error instanceof AppError && error.details?.status === status;
}

function throwIfAborted(signal: AbortSignal | undefined, what: string): void {
  if (signal?.aborted) throw new AppError("aborted", `Aborted: ${what}.`, { cause: signal.reason });
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}
