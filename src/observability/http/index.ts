export {
  type AuthFailureLimit,
  bearerToken,
  createAuthFailureLimiter,
  DEFAULT_AUTH_FAILURE_LIMIT,
  isPublicRoute,
  parseApiKeys,
  registerApiKeys,
} from "./api-keys.js";
export {
  type ErrorBody,
  errorBody,
  errorBodySchema,
  errorLogFields,
  logFailure,
  mapError,
  registerErrorHandling,
  sendErrorBody,
} from "./errors.js";
export { edgeLoggerOptions, type LogLevel, pathOnly, REDACTED_PATHS, serializeRequest } from "./logging.js";
export { createHttpMetrics, type HttpMetrics, registerHttpMetrics } from "./metrics.js";
export { assertPortFree, listenOrExplain } from "./port.js";
export { REQUEST_ID_HEADER, registerRequestIdHeader, requestIdFrom } from "./request-id.js";
export {
  answerClientError,
  DEFAULT_HTTP_TIMEOUTS,
  edgeServerOptions,
  type HttpTimeouts,
  MAX_PARAM_LENGTH,
} from "./server-options.js";
