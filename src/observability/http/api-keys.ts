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

export function registerApiKeys(app: FastifyInstance, keys: readonly string[]): void {
  if (keys.length === 0) return;
  const digests = keys.map(digest);
  app.addHook("onRequest", async (request) => {
    if (isPublicRoute(request)) return;
    const token = bearerToken(request);
    if (token === undefined) {
      throw new AppError("unauthorized", "this service needs an API key: send 'Authorization: Bearer <key>'");
    }
    const candidate = digest(token);
    if (!digests.some((known) => timingSafeEqual(known, candidate))) {
      throw new AppError("unauthorized", "the API key is not valid");
    }
  });
}
