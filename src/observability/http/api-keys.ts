/**
 * Optional bearer API keys. When keys are configured every route needs `Authorization: Bearer
 * <key>`, except those marked public in their route config (`config: { public: true }`: health,
 * readiness, the chat page's static assets). Keys are compared in constant time.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { AppError } from "../../errors/index.js";

declare module "fastify" {
  interface FastifyContextConfig {
    /** No API key needed, and no rate limit (health, readiness, static assets). */
    public?: boolean;
  }
}

const digest = (value: string): Buffer => createHash("sha256").update(value).digest();

export function parseApiKeys(value: string | undefined): string[] {
  return (value ?? "")
    .split(",")
    .map((key) => key.trim())
    .filter((key) => key !== "");
}

export function bearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (header === undefined) return undefined;
  const match = /^Bearer\s+(.+)$/i.exec(header.trim());
  return match?.[1]?.trim();
}

export function isPublicRoute(request: FastifyRequest): boolean {
  return request.routeOptions.config?.public === true;
}

export type AuthFailureLimit = {
  /** Failed authentications allowed per client address and window; beyond it 429. 0 = no limit. */
  max: number;
  windowMs: number;
};

export const DEFAULT_AUTH_FAILURE_LIMIT: AuthFailureLimit = { max: 10, windowMs: 60_000 };

/** Most client addresses tracked at once; the oldest windows are forgotten first beyond it. */
const MAX_TRACKED_ADDRESSES = 100_000;

type FailureWindow = { count: number; resetAt: number };

/**
 * Counts failed authentications per client address in fixed windows. An address over the limit
 * is refused (429) until its window ends, whatever key it sends: key guessing is throttled.
 */
export function createAuthFailureLimiter(limit: AuthFailureLimit, now: () => number = Date.now) {
  const windows = new Map<string, FailureWindow>();
  const current = (address: string): FailureWindow | undefined => {
    const window = windows.get(address);
    if (window !== undefined && window.resetAt <= now()) {
      windows.delete(address);
      return undefined;
    }
    return window;
  };
  return {
    /** Seconds until the address may try again, when it is over the limit. */
    blockedFor(address: string): number | undefined {
      if (limit.max === 0) return undefined;
      const window = current(address);
      if (window === undefined || window.count < limit.max) return undefined;
      return Math.max(1, Math.ceil((window.resetAt - now()) / 1000));
    },
    recordFailure(address: string): void {
      if (limit.max === 0) return;
      const window = current(address);
      if (window !== undefined) {
        window.count += 1;
        return;
      }
      if (windows.size >= MAX_TRACKED_ADDRESSES) {
        const oldest = windows.keys().next().value;
        if (oldest !== undefined) windows.delete(oldest);
      }
      windows.set(address, { count: 1, resetAt: now() + limit.windowMs });
    },
  };
}

export type ApiKeyOptions = { failureLimit?: AuthFailureLimit };

export function registerApiKeys(app: FastifyInstance, keys: readonly string[], options: ApiKeyOptions = {}): void {
  if (keys.length === 0) return;
  const digests = keys.map(digest);
  const limiter = createAuthFailureLimiter(options.failureLimit ?? DEFAULT_AUTH_FAILURE_LIMIT);
  app.addHook("onRequest", async (request, reply) => {
    if (isPublicRoute(request)) return;
    const blockedSeconds = limiter.blockedFor(request.ip);
    if (blockedSeconds !== undefined) {
      reply.header("retry-after", String(blockedSeconds));
      throw new AppError(
        "rate_limited",
        `too many failed authentications from this address: retry in ${blockedSeconds} s with a valid API key`,
      );
    }
    const token = bearerToken(request);
    if (token === undefined) {
      limiter.recordFailure(request.ip);
      throw new AppError("unauthorized", "this service needs an API key: send 'Authorization: Bearer <key>'");
    }
    const candidate = digest(token);
    if (!digests.some((known) => timingSafeEqual(known, candidate))) {
      limiter.recordFailure(request.ip);
      throw new AppError("unauthorized", "the API key is not valid");
    }
  });
}
