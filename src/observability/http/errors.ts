/**
 * The one place where errors become HTTP responses: AppErrors by HTTP_STATUS, Fastify's own
 * errors (validation, body too large, bad JSON, rate limit) by their kind, anything else as a 500
 * with a generic message. The body is always `{error: {code, message, requestId}}`; stack traces
 * and upstream bodies stay in the logs. A 5xx is logged as one structured line when it is an
 * AppError (an expected operational failure: an upstream down or failing, a timeout); only
 * anything else (a bug) is logged with its stack.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { AppError, type ErrorCode, HTTP_STATUS, isAppError } from "../../errors/index.js";
import { pathOnly } from "./logging.js";
import { REQUEST_ID_HEADER } from "./request-id.js";

export type ErrorBody = {
  error: { code: ErrorCode; message: string; requestId: string; details?: Record<string, unknown> };
};

export type MappedError = { status: number; code: ErrorCode; message: string; details?: Record<string, unknown> };

/** Fastify's own errors that need a code and a message of their own. */
const FASTIFY_ERRORS: Record<string, { code: ErrorCode; message: string }> = {
  FST_ERR_BAD_URL: { code: "bad_request", message: "the URL is not valid: a percent-encoded sequence does not decode" },
  FST_ERR_MAX_PARAM_LENGTH: { code: "uri_too_long", message: "a path parameter of the URL is too long" },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: {
    code: "unsupported_media_type",
    message: "unsupported content type: send the body as application/json",
  },
  FST_ERR_CTP_BODY_TOO_LARGE: { code: "payload_too_large", message: "the request body is too large" },
  FST_ERR_CTP_EMPTY_JSON_BODY: { code: "bad_request", message: "the request body is empty: send a JSON object" },
  // Fastify's own text says the content type was application/json, also when the client sent another.
  FST_ERR_CTP_INVALID_JSON_BODY: {
    code: "bad_request",
    message: "the request body is not valid JSON: send one JSON object (check quotes, commas and braces)",
  },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: {
    code: "bad_request",
    message: "the request body does not match its Content-Length",
  },
};

function fastifyErrorCode(error: FastifyError): ErrorCode {
  if (error.validation !== undefined) return "validation_error";
  if (error.statusCode === 429) return "rate_limited";
  if (error.statusCode === 404) return "not_found";
  if (error.statusCode === 401) return "unauthorized";
  if (error.statusCode === 413) return "payload_too_large";
  if (error.statusCode === 415) return "unsupported_media_type";
  if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500) return "bad_request";
  return "internal_error";
}

export function mapError(error: unknown): MappedError {
  if (isAppError(error)) {
    return {
      status: HTTP_STATUS[error.code],
      code: error.code,
      message: error.code === "internal_error" ? "internal error" : error.message,
      ...(error.details === undefined ? {} : { details: error.details }),
    };
  }
  const fastifyError = error as FastifyError;
  const known = typeof fastifyError?.code === "string" ? FASTIFY_ERRORS[fastifyError.code] : undefined;
  if (known !== undefined) return { status: HTTP_STATUS[known.code], ...known };
  const code = fastifyErrorCode(fastifyError);
  if (code === "internal_error") return { status: 500, code, message: "internal error" };
  let message = fastifyError.message;
  if (code === "validation_error") message = validationText(fastifyError);
  if (code === "bad_request" && error instanceof SyntaxError) message = `invalid JSON body: ${fastifyError.message}`;
  return { status: HTTP_STATUS[code], code, message };
}

/**
 * A route schema's refusal, one problem per field: `query`: what is wrong, unknown fields by name,
 * a missing body as such (Fastify's text reads `body/query must be ...`, `body/ Unrecognized key`).
 */
function validationText(error: FastifyError): string {
  const problems = (error.validation ?? []).map((item) => {
    const path = (item.instancePath ?? "").split("/").filter((part) => part !== "");
    const params = (item.params ?? {}) as Record<string, unknown>;
    const unknown = Array.isArray(params.keys)
      ? params.keys.map(String)
      : typeof params.additionalProperty === "string"
        ? [params.additionalProperty]
        : undefined;
    if (unknown !== undefined) {
      return `unknown field(s) ${unknown.map((key) => `\`${[...path, key].join(".")}\``).join(", ")}`;
    }
    if (path.length === 0 && /received (null|undefined)/.test(item.message ?? "")) {
      return "the request body is empty: send a JSON object";
    }
    // An enum (JSON schema) says which values: Ajv's text alone reads "one of the allowed values".
    const allowed = Array.isArray(params.allowedValues)
      ? ` (${params.allowedValues.map((value) => JSON.stringify(value)).join(", ")})`
      : "";
    return `${path.length === 0 ? "body" : `\`${path.join(".")}\``}: ${item.message ?? "invalid"}${allowed}`;
  });
  return problems.length === 0 ? `invalid request: ${error.message}` : `invalid request: ${problems.join("; ")}`;
}

export function errorBody(mapped: MappedError, requestId: string): ErrorBody {
  return {
    error: {
      code: mapped.code,
      message: mapped.message,
      requestId,
      ...(mapped.details === undefined ? {} : { details: mapped.details }),
    },
  };
}

const MAX_LOGGED_CAUSE_LENGTH = 500;

/**
 * What a log line says of a failure. An AppError (other than internal_error) is an expected,
 * operational failure: its code, message, details and log-only context, and the messages of its
 * causes, in one line without a stack. Anything else is a bug and keeps its stack (`err`).
 */
export function errorLogFields(error: unknown): Record<string, unknown> {
  if (!isAppError(error) || error.code === "internal_error") return { err: error };
  const causes: string[] = [];
  for (let cause = error.cause, depth = 0; cause !== undefined && cause !== null && depth < 3; depth += 1) {
    causes.push(cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause));
    cause = cause instanceof Error ? cause.cause : undefined;
  }
  const cause = causes.join(" <- ").replace(/\s+/g, " ");
  return {
    code: error.code,
    reason: error.message,
    ...error.details,
    ...error.logContext,
    ...(cause === "" ? {} : { cause: cause.slice(0, MAX_LOGGED_CAUSE_LENGTH) }),
  };
}

/**
 * Logs a failed request (`context` "request") or a failure reported inside a stream whose headers
 * already went out ("stream"): a 5xx at error level (see errorLogFields), anything else at info.
 */
export function logFailure(request: FastifyRequest, error: unknown, context: "request" | "stream" = "request"): void {
  const mapped = mapError(error);
  if (mapped.status >= 500)
    request.log.error(
      { ...errorLogFields(error), code: mapped.code, status: mapped.status, requestId: request.id },
      `${context} failed`,
    );
  else
    request.log.info(
      { code: mapped.code, message: mapped.message },
      context === "request" ? "request rejected" : "stream ended with an error",
    );
}

export type ErrorHandlingOptions = {
  /** Called once per error response (metrics). */
  onError?: (code: ErrorCode, request: FastifyRequest) => void;
};

/** Sends `error` in the one shape (also for errors raised before routing: frameworkErrors). */
export function sendErrorBody(
  error: unknown,
  request: FastifyRequest,
  reply: FastifyReply,
  options: ErrorHandlingOptions = {},
): FastifyReply {
  const mapped = mapError(error);
  logFailure(request, error);
  options.onError?.(mapped.code, request);
  // Errors raised before routing (frameworkErrors) skip the onRequest hook that sets it.
  if (!reply.hasHeader(REQUEST_ID_HEADER)) reply.header(REQUEST_ID_HEADER, request.id);
  if (mapped.code === "overloaded" || mapped.code === "rate_limited" || mapped.status === 503) {
    if (!reply.hasHeader("retry-after")) reply.header("retry-after", "1");
  }
  return reply.status(mapped.status).type("application/json").send(errorBody(mapped, request.id));
}

export function registerErrorHandling(app: FastifyInstance, options: ErrorHandlingOptions = {}): void {
  app.setErrorHandler((error: unknown, request: FastifyRequest, reply: FastifyReply) => {
    return sendErrorBody(error, request, reply, options);
  });
  app.setNotFoundHandler((request, reply) => {
    const mapped = mapError(new AppError("not_found", `no route ${request.method} ${pathOnly(request.url)}`));
    options.onError?.(mapped.code, request);
    return reply.status(404).send(errorBody(mapped, request.id));
  });
}

/** JSON schema of the error body, for route response schemas. */
export const errorBodySchema = {
  type: "object",
  required: ["error"],
  properties: {
    error: {
      type: "object",
      required: ["code", "message", "requestId"],
      properties: {
        code: { type: "string" },
        message: { type: "string" },
        requestId: { type: "string" },
        details: { type: "object", additionalProperties: true },
      },
    },
  },
} as const;
