export { bearerToken, isPublicRoute, parseApiKeys, registerApiKeys } from "./api-keys.js";
export { type ErrorBody, errorBody, errorBodySchema, mapError, registerErrorHandling } from "./errors.js";
export { createHttpMetrics, type HttpMetrics, registerHttpMetrics } from "./metrics.js";
export { REQUEST_ID_HEADER, registerRequestIdHeader, requestIdFrom } from "./request-id.js";
