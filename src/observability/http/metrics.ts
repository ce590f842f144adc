/**
 * Prometheus metrics for a Fastify service, on a registry owned by the app (no global registry):
 * requests by route and status, request duration by route, errors by code, and `GET /metrics`.
 */
import type { FastifyInstance } from "fastify";
import { Counter, collectDefaultMetrics, Histogram, Registry } from "prom-client";

export type HttpMetrics = {
  registry: Registry;
  requests: Counter<"route" | "method" | "status">;
  duration: Histogram<"route" | "method">;
  errors: Counter<"code">;
};

export function createHttpMetrics(prefix: string, options: { defaultMetrics?: boolean } = {}): HttpMetrics {
  const registry = new Registry();
  // prom-client's own names already start with process_ or nodejs_: prefix them with the service only.
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry, prefix });
  return {
    registry,
    requests: new Counter({
      name: `${prefix}requests_total`,
      help: "HTTP requests by route, method and status",
      labelNames: ["route", "method", "status"],
      registers: [registry],
    }),
    duration: new Histogram({
      name: `${prefix}request_duration_seconds`,
      help: "HTTP request duration by route (streams: until the last byte)",
      labelNames: ["route", "method"],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers: [registry],
    }),
    errors: new Counter({
      name: `${prefix}errors_total`,
      help: "Errors by code (HTTP error responses and errors inside streams)",
      labelNames: ["code"],
      registers: [registry],
    }),
  };
}

export function registerHttpMetrics(app: FastifyInstance, metrics: HttpMetrics): void {
  app.addHook("onResponse", async (request, reply) => {
    const route = request.routeOptions.url ?? "unmatched";
    metrics.requests.inc({ route, method: request.method, status: String(reply.statusCode) });
    metrics.duration.observe({ route, method: request.method }, reply.elapsedTime / 1000);
  });
  app.get("/metrics", { schema: { hide: true } }, async (_request, reply) => {
    reply.type(metrics.registry.contentType);
    return metrics.registry.metrics();
  });
}
