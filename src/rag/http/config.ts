/** The RAG service's HTTP settings and their defaults, apart from the app so flag parsing stays light. */
export type RateLimitConfig = { max: number; timeWindowMs: number };

export type RagHttpConfig = {
  /** Bearer keys; empty = no authentication. */
  apiKeys: readonly string[];
  /** Requests per key (or per IP without a key) per window; false = no limit. */
  rateLimit: RateLimitConfig | false;
  bodyLimitBytes: number;
};

export const DEFAULT_RAG_HTTP_CONFIG: RagHttpConfig = {
  apiKeys: [],
  rateLimit: { max: 120, timeWindowMs: 60_000 },
  bodyLimitBytes: 64 * 1024,
};
