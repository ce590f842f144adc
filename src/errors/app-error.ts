/**
 * Typed errors with a stable `code`. The HTTP edge maps them to status codes in one place;
 * nothing else decides a status. `retryable` tells clients and retry loops whether trying again
 * can help.
 */

export type ErrorCode =
  | "bad_request"
  | "validation_error"
  | "unknown_adapter"
  | "too_many_choices"
  | "stream_buffer_full"
  | "unauthorized"
  | "not_found"
  | "payload_too_large"
  | "unsupported_media_type"
  | "request_timeout"
  | "uri_too_long"
  | "headers_too_large"
  | "port_in_use"
  | "input_too_long"
  | "overloaded"
  | "rate_limited"
  | "timeout"
  | "aborted"
  | "upstream_error"
  | "upstream_unavailable"
  | "dependency_unavailable"
  | "model_not_found"
  | "embeddings_not_configured"
  | "model_loading"
  | "shutting_down"
  | "fingerprint_mismatch"
  | "integrity_mismatch"
  | "adapter_base_mismatch"
  | "forbidden"
  | "invalid_document"
  | "dimension_mismatch"
  | "configuration_error"
  | "internal_error";

export type AppErrorOptions = {
  cause?: unknown;
  retryable?: boolean;
  /** Extra, client-safe details (numbers of a limit, the field at fault...). */
  details?: Record<string, unknown>;
  /** Context for the logs only, never sent to a client (the URL of the upstream that failed...). */
  logContext?: Record<string, unknown>;
};

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly retryable: boolean;
  readonly details: Record<string, unknown> | undefined;
  readonly logContext: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, options: AppErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "AppError";
    this.code = code;
    this.retryable = options.retryable ?? RETRYABLE_BY_DEFAULT.has(code);
    this.details = options.details;
    this.logContext = options.logContext;
  }

  /** Whether the same call may succeed later (overload, timeouts, an upstream down); vercel/ai's name. */
  get isRetryable(): boolean {
    return this.retryable;
  }
}

const RETRYABLE_BY_DEFAULT = new Set<ErrorCode>([
  "overloaded",
  "rate_limited",
  "timeout",
  "upstream_unavailable",
  "dependency_unavailable",
  "model_loading",
  "shutting_down",
]);

/** HTTP status for each code: the single mapping used by every service. */
export const HTTP_STATUS: Record<ErrorCode, number> = {
  bad_request: 400,
  validation_error: 422,
  unknown_adapter: 422,
  // n / best_of beyond --max-n or the parallel sequences.
  too_many_choices: 422,
  // A streaming client that stopped reading past serve-llm --native-stream-buffer.
  stream_buffer_full: 408,
  unauthorized: 401,
  not_found: 404,
  payload_too_large: 413,
  unsupported_media_type: 415,
  request_timeout: 408,
  uri_too_long: 414,
  headers_too_large: 431,
  // A start-up error (the CLI prints it); never an HTTP answer.
  port_in_use: 500,
  input_too_long: 422,
  overloaded: 429,
  rate_limited: 429,
  timeout: 504,
  aborted: 499,
  upstream_error: 502,
  upstream_unavailable: 503,
  dependency_unavailable: 503,
  model_not_found: 404,
  // serve-llm without --embedding-model asked for /v1/embeddings.
  embeddings_not_configured: 404,
  model_loading: 503,
  shutting_down: 503,
  fingerprint_mismatch: 409,
  // A registered model file that no longer matches the sha256 and size recorded at registration.
  integrity_mismatch: 409,
  // A registered adapter trained on another base model than the one served.
  adapter_base_mismatch: 409,
  // An endpoint switched off by configuration (POST /admin/reload without API keys).
  forbidden: 403,
  invalid_document: 422,
  dimension_mismatch: 422,
  configuration_error: 500,
  internal_error: 500,
};

export function isAppError(error: unknown): error is AppError {
  return error instanceof AppError;
}

/** True when `error` comes from an aborted AbortSignal (DOM AbortError or our own code). */
export function isAbortError(error: unknown): boolean {
  if (error instanceof AppError) return error.code === "aborted";
  return error instanceof Error && (error.name === "AbortError" || error.name === "TimeoutError");
}
