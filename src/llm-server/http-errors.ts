/**
 * The one place where the LLM service's errors become HTTP responses, in the shape each API
 * promises: TGI and SageMaker routes answer TGI's `{"error": "...", "error_type": "..."}`; OpenAI
 * routes (/v1/*) answer OpenAI's `{"error": {"message", "type", "code", "param"}}`; everything else
 * (unknown routes, malformed URLs, /metrics, /docs) the project's `{error: {code, message, requestId}}`.
 * Clients never see stack traces.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from "fastify";
import { hasZodFastifySchemaValidationErrors } from "fastify-type-provider-zod";
import { AppError, type ErrorCode, HTTP_STATUS, isAppError } from "../errors/index.js";
import { mapError, errorBody as projectErrorBody, REQUEST_ID_HEADER } from "../observability/http/index.js";
import { paramDetails, type ValidationIssue, validationMessage } from "./request-parsing.js";

/** TGI's error_type for each code. */
const TGI_ERROR_TYPE: Partial<Record<ErrorCode, string>> = {
  validation_error: "validation",
  input_too_long: "validation",
  bad_request: "validation",
  payload_too_large: "validation",
  overloaded: "overloaded",
  model_loading: "unhealthy",
  shutting_down: "unhealthy",
  dependency_unavailable: "unhealthy",
  timeout: "timeout",
  aborted: "aborted",
  not_found: "not_found",
  unauthorized: "unauthorized",
  rate_limited: "rate_limited",
  unsupported_media_type: "validation",
  uri_too_long: "validation",
};

const OPENAI_ERROR_TYPE: Partial<Record<ErrorCode, string>> = {
  validation_error: "invalid_request_error",
  bad_request: "invalid_request_error",
  payload_too_large: "invalid_request_error",
  not_found: "invalid_request_error",
  model_not_found: "invalid_request_error",
  overloaded: "server_overloaded",
  rate_limited: "rate_limit_error",
  unauthorized: "authentication_error",
};

export const RETRY_AFTER_SECONDS = 1;

/** Normalizes anything thrown (Fastify's own errors included) into an AppError. */
export function toAppError(error: unknown, body?: unknown): AppError {
  if (isAppError(error)) return error;
  if (hasZodFastifySchemaValidationErrors(error)) {
    // The route's zod schema refused the body: the same message as the handlers' own parsing.
    if (body === undefined || body === null) {
      return new AppError("validation_error", "Input validation error: the request body is empty", { cause: error });
    }
    const issues = error.validation.map((problem) => ({
      path: problem.instancePath.split("/").filter((part) => part !== ""),
      code: problem.keyword,
      message: problem.message ?? "invalid",
      ...(Array.isArray(problem.params.keys) ? { keys: problem.params.keys as string[] } : {}),
      ...(Array.isArray(problem.params.errors) ? { errors: problem.params.errors as ValidationIssue[][] } : {}),
    }));
    return new AppError("validation_error", validationMessage(issues), { cause: error, details: paramDetails(issues) });
  }
  const fastifyError = error as Partial<FastifyError> | undefined;
  const code = fastifyError?.code;
  if (code === "FST_ERR_BAD_URL" || code === "FST_ERR_MAX_PARAM_LENGTH") {
    const mapped = mapError(error);
    return new AppError(mapped.code, mapped.message, { cause: error });
  }
  if (code === "FST_ERR_CTP_BODY_TOO_LARGE") {
    return new AppError("payload_too_large", "Request body is too large", { cause: error });
  }
  if (code === "FST_ERR_CTP_EMPTY_JSON_BODY") {
    return new AppError("validation_error", "Input validation error: the request body is empty", { cause: error });
  }
  if (code === "FST_ERR_CTP_INVALID_MEDIA_TYPE") {
    return new AppError("unsupported_media_type", "Unsupported content type: send application/json", {
      cause: error,
    });
  }
  if (error instanceof SyntaxError || code === "FST_ERR_CTP_INVALID_JSON_BODY") {
    return new AppError(
      "bad_request",
      `Request body is not valid JSON: ${error instanceof Error ? error.message : ""}`,
      {
        cause: error,
      },
    );
  }
  const status = fastifyError?.statusCode;
  if (typeof status === "number" && status >= 400 && status < 500) {
    if (status === 404) return new AppError("not_found", fastifyError?.message ?? "Not found", { cause: error });
    return new AppError("bad_request", fastifyError?.message ?? "Bad request", { cause: error });
  }
  return new AppError("internal_error", "Internal server error", { cause: error });
}

export function isOpenAiRoute(url: string): boolean {
  return url.startsWith("/v1/");
}

/** Routes of TGI's API and SageMaker's contract: their errors keep TGI's shape. */
const TGI_ROUTES = new Set(["/", "/generate", "/generate_stream", "/info", "/health", "/invocations", "/ping"]);

export type ErrorShape = "tgi" | "openai" | "project";

export function errorShapeOf(request: FastifyRequest): ErrorShape {
  const route = request.routeOptions.url;
  if (route !== undefined && TGI_ROUTES.has(route)) return "tgi";
  if (route !== undefined && isOpenAiRoute(route)) return "openai";
  return "project";
}

/** What an OpenAI request calls its input (chat's `messages`, completions' `prompt`) and its token budget. */
export type OpenAiTerms = { input: "prompt" | "messages"; maxTokens: "max_tokens" | "max_completion_tokens" };

/** The terms of an OpenAI request, from its route and body. */
export function openAiTerms(route: string | undefined, body: unknown): OpenAiTerms {
  const fields = typeof body === "object" && body !== null ? (body as Record<string, unknown>) : {};
  return {
    input: route === "/v1/completions" ? "prompt" : "messages",
    maxTokens: fields.max_completion_tokens != null ? "max_completion_tokens" : "max_tokens",
  };
}

function isTokenLimit(error: AppError): boolean {
  const details = error.details ?? {};
  return error.code === "validation_error" && ("inputTokens" in details || "requestedMaxNewTokens" in details);
}

/**
 * The token-limit messages (src/llm/llama-cpp/limits.ts) speak TGI's `inputs` and `max_new_tokens`;
 * an OpenAI client sent `prompt`/`messages` and `max_tokens`. Only those messages (known by their
 * details) are reworded: an unknown `max_new_tokens` parameter keeps its name.
 */
function inOpenAiTerms(error: AppError, terms: OpenAiTerms): string {
  if (error.code === "overloaded" && error.details?.maxConcurrentRequests !== undefined) {
    // TGI's routes keep TGI's exact message; OpenAI clients get the bounds and what to do.
    const { maxConcurrentRequests, maxQueue } = error.details;
    return `Model is overloaded (at most ${maxConcurrentRequests} requests at once and ${maxQueue} waiting: serve-llm --max-concurrent-requests / --max-queue); retry after the seconds of Retry-After`;
  }
  if (!isTokenLimit(error)) return error.message;
  return error.message
    .replaceAll("`inputs`", `\`${terms.input}\``)
    .replaceAll("`max_new_tokens`", `\`${terms.maxTokens}\``);
}

/** OpenAI's `error.param`: the request field at fault, when one is. */
function openAiParam(error: AppError, terms: OpenAiTerms): string | null {
  const details = error.details ?? {};
  if (typeof details.param === "string") return details.param;
  if (error.code === "too_many_choices" && typeof details.field === "string") return details.field;
  if (isTokenLimit(error)) {
    return "maxNewTokens" in details || "requestedMaxNewTokens" in details ? terms.maxTokens : terms.input;
  }
  return null;
}

export function errorBody(
  error: AppError,
  openAi: boolean,
  terms: OpenAiTerms = { input: "messages", maxTokens: "max_tokens" },
): Record<string, unknown> {
  if (openAi) {
    return {
      error: {
        message: inOpenAiTerms(error, terms),
        type:
          OPENAI_ERROR_TYPE[error.code] ?? (HTTP_STATUS[error.code] >= 500 ? "server_error" : "invalid_request_error"),
        code: error.code,
        param: openAiParam(error, terms),
      },
    };
  }
  return { error: error.message, error_type: TGI_ERROR_TYPE[error.code] ?? error.code };
}

/** A body over the limit says the limit and the flag that sets it. */
function withBodyLimit(error: AppError, limit: number | undefined): AppError {
  if (error.code !== "payload_too_large" || limit === undefined) return error;
  return new AppError(
    "payload_too_large",
    `Request body is too large: over ${limit} bytes (serve-llm --body-limit / LLM_TWIN_BODY_LIMIT)`,
    { cause: error.cause, details: { limit } },
  );
}

export function sendError(request: FastifyRequest, reply: FastifyReply, thrown: unknown): FastifyReply {
  const error = withBodyLimit(toAppError(thrown, request.body), request.routeOptions.bodyLimit);
  const status = HTTP_STATUS[error.code];
  if (status >= 500 && !error.retryable) request.log.error({ err: thrown, code: error.code }, error.message);
  else request.log.info({ code: error.code }, error.message);
  if (error.retryable && (status === 429 || status === 503) && !reply.hasHeader("retry-after")) {
    reply.header("retry-after", String(RETRY_AFTER_SECONDS));
  }
  // Errors raised before routing (frameworkErrors) skip the onRequest hook that sets it.
  if (!reply.hasHeader(REQUEST_ID_HEADER)) reply.header(REQUEST_ID_HEADER, request.id);
  const shape = errorShapeOf(request);
  const body =
    shape === "project"
      ? projectErrorBody({ status, code: error.code, message: error.message }, request.id)
      : errorBody(error, shape === "openai", openAiTerms(request.routeOptions.url, request.body));
  return reply.code(status).type("application/json").send(body);
}
