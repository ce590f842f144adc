/**
 * Turns what an upstream LLM server did (an HTTP status, a network failure, an abort) into an
 * AppError with a stable code. Upstream bodies never become client-visible messages, except the
 * short validation message of a 400/422, which describes the caller's own request (for example
 * "inputs tokens + max_new_tokens must be <= 2048"); it is validated and truncated first.
 */
import { z } from "zod";
import { AppError, isAppError } from "../../errors/index.js";

const MAX_VALIDATION_MESSAGE_LENGTH = 300;

const upstreamErrorBody = z.union([
  z.object({ error: z.string(), error_type: z.string().optional() }),
  z.object({ error: z.object({ message: z.string() }) }),
  z.object({ message: z.string() }),
  z.object({ detail: z.string() }),
]);

/** The short message of an upstream error body, when it has one of the known shapes. */
export function upstreamErrorMessage(body: unknown): string | undefined {
  const parsed = upstreamErrorBody.safeParse(body);
  if (!parsed.success) return undefined;
  const value = parsed.data;
  let message: string;
  if ("error" in value) message = typeof value.error === "string" ? value.error : value.error.message;
  else if ("message" in value) message = value.message;
  else message = value.detail;
  const singleLine = message.replace(/\s+/g, " ").trim();
  return singleLine.length > MAX_VALIDATION_MESSAGE_LENGTH
    ? `${singleLine.slice(0, MAX_VALIDATION_MESSAGE_LENGTH)}…`
    : singleLine;
}

/** Parse a Retry-After header (seconds or an HTTP date) into milliseconds. */
export function parseRetryAfter(value: string | null | undefined, now = Date.now()): number | undefined {
  if (value === null || value === undefined || value.trim() === "") return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(value);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

export type UpstreamFailure = {
  status: number;
  /** The parsed JSON body, or the text when it was not JSON; only used for logs and 4xx messages. */
  body: unknown;
  retryAfterMs?: number | undefined;
  /** The URL that answered (logs only: never sent to a client). */
  url?: string;
};

/** An AppError for an upstream HTTP status that is not 2xx. */
export function errorFromStatus(failure: UpstreamFailure, service = "language model"): AppError {
  const { status, body } = failure;
  const upstreamMessage = upstreamErrorMessage(body);
  const cause = new Error(`upstream ${service} answered HTTP ${status}: ${upstreamMessage ?? "(no message)"}`);
  const details: Record<string, unknown> = { upstreamStatus: status };
  if (failure.retryAfterMs !== undefined) details.retryAfterMs = failure.retryAfterMs;
  // The URL that failed goes to the logs only (see logContext).
  const common = { cause, details, ...(failure.url === undefined ? {} : { logContext: { upstreamUrl: failure.url } }) };
  if (status === 429) {
    return new AppError("overloaded", `The ${service} is overloaded; try again later`, { ...common, retryable: true });
  }
  if (status === 400 || status === 422) {
    const suffix = upstreamMessage === undefined ? "" : `: ${upstreamMessage}`;
    return new AppError("validation_error", `The ${service} rejected the request${suffix}`, {
      ...common,
      retryable: false,
    });
  }
  if (status === 401 || status === 403) {
    return new AppError("upstream_error", `The ${service} refused our credentials (HTTP ${status})`, {
      ...common,
      retryable: false,
    });
  }
  if (status === 404) {
    return new AppError("upstream_error", `The ${service} does not offer this endpoint or model (HTTP 404)`, {
      ...common,
      retryable: false,
    });
  }
  if (status === 408 || status === 504) {
    return new AppError("timeout", `The ${service} timed out (HTTP ${status})`, { ...common, retryable: true });
  }
  if (status === 503) {
    return new AppError("upstream_unavailable", `The ${service} is unavailable (HTTP 503)`, {
      ...common,
      retryable: true,
    });
  }
  if (status >= 500) {
    return new AppError("upstream_error", `The ${service} failed (HTTP ${status})`, { ...common, retryable: false });
  }
  return new AppError("upstream_error", `The ${service} answered with unexpected HTTP ${status}`, {
    ...common,
    retryable: false,
  });
}

const NETWORK_ERROR_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ETIMEDOUT",
  "EPIPE",
  "UND_ERR_SOCKET",
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_CLOSED",
]);

function networkErrorCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current !== undefined && current !== null; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string" && NETWORK_ERROR_CODES.has(code)) return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/** True for errors that fetch (undici) raises when the connection cannot be made or is lost. */
export function isNetworkError(error: unknown): boolean {
  if (networkErrorCode(error) !== undefined) return true;
  return error instanceof TypeError && /fetch failed|terminated|socket|network/i.test(error.message);
}

/** The caller's signals and the per-call deadline, combined; tells which one fired. */
export type CallSignal = {
  signal: AbortSignal;
  /** The error that describes why the call was aborted, or undefined if it was not. */
  abortError(): AppError | undefined;
  /** Stop the deadline timer and detach from the source signals (call when the call is over). */
  release(): void;
};

/**
 * Combines the sources by hand rather than with AbortSignal.any: listeners on long-lived signals
 * (a client's dispose signal) are removed when the call ends, so nothing accumulates on them.
 */
export function createCallSignal(
  sources: readonly (AbortSignal | undefined)[],
  timeoutMs: number,
  service: string,
): CallSignal {
  const controller = new AbortController();
  let timedOut = false;
  let abortedBy: AbortSignal | undefined;
  const detachers: (() => void)[] = [];
  for (const source of sources) {
    if (source === undefined) continue;
    const onAbort = (): void => {
      abortedBy ??= source;
      controller.abort(source.reason);
    };
    if (source.aborted) {
      onAbort();
      break;
    }
    source.addEventListener("abort", onAbort, { once: true });
    detachers.push(() => source.removeEventListener("abort", onAbort));
  }
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort(new DOMException(`timed out after ${timeoutMs} ms`, "TimeoutError"));
  }, timeoutMs);
  timer.unref?.();
  return {
    signal: controller.signal,
    abortError() {
      if (abortedBy !== undefined) {
        return new AppError("aborted", `The ${service} request was cancelled`, {
          cause: abortedBy.reason,
          retryable: false,
        });
      }
      if (timedOut) {
        return new AppError("timeout", `The ${service} did not answer within ${timeoutMs} ms`, {
          retryable: false,
          details: { timeoutMs },
        });
      }
      return undefined;
    },
    release() {
      clearTimeout(timer);
      for (const detach of detachers.splice(0)) detach();
    },
  };
}

/**
 * Normalise anything thrown while talking to an upstream into an AppError. Aborts win over the
 * error they caused; network failures become upstream_unavailable (retryable).
 */
export function toUpstreamError(error: unknown, callSignal: CallSignal, service: string): AppError {
  const aborted = callSignal.abortError();
  if (aborted !== undefined) return aborted;
  if (isAppError(error)) return error;
  if (isNetworkError(error)) {
    const code = networkErrorCode(error);
    return new AppError(
      "upstream_unavailable",
      `The ${service} is unreachable${code === undefined ? "" : ` (${code})`}`,
      {
        cause: error,
        retryable: true,
      },
    );
  }
  return new AppError("upstream_error", `The ${service} call failed`, { cause: error, retryable: false });
}

/** The message for a response that failed schema validation: says where, never echoes the body. */
export function invalidResponseError(service: string, what: string, issues: z.core.$ZodIssue[]): AppError {
  const where = issues
    .slice(0, 3)
    .map((issue) => `${issue.path.join(".") || "(root)"}: ${issue.message}`)
    .join("; ");
  return new AppError("upstream_error", `The ${service} sent an invalid ${what}`, {
    cause: new Error(`invalid ${what}: ${where}`),
    retryable: false,
  });
}
