/** The RAG service's HTTP settings and their defaults, apart from the app so flag parsing stays light. */
import { type AuthFailureLimit, DEFAULT_AUTH_FAILURE_LIMIT } from "../../observability/http/api-keys.js";
import { DEFAULT_HTTP_TIMEOUTS, type HttpTimeouts } from "../../observability/http/server-options.js";

export type RateLimitConfig = { max: number; timeWindowMs: number };

export type RagHttpConfig = {
  /** Bearer keys; empty = no authentication. */
  apiKeys: readonly string[];
  /** Requests per key (or per IP without a key) per window; false = no limit. */
  rateLimit: RateLimitConfig | false;
  bodyLimitBytes: number;
  /** Failed authentications per client address and window (429 beyond). */
  authFailureLimit: AuthFailureLimit;
  timeouts: HttpTimeouts;
  /** /rag requests in flight before 429 `overloaded` (decided before any work); undefined = unbounded. */
  maxGenerations?: number;
};

export const DEFAULT_RAG_HTTP_CONFIG: RagHttpConfig = {
  apiKeys: [],
  rateLimit: { max: 120, timeWindowMs: 60_000 },
  bodyLimitBytes: 64 * 1024,
  authFailureLimit: DEFAULT_AUTH_FAILURE_LIMIT,
  timeouts: DEFAULT_HTTP_TIMEOUTS,
};
