/**
 * Builds the RAG service's Fastify app (testable with inject(); ./server.ts only listens):
 * request ids, API keys, rate limits, the body limit, one error handler, metrics, OpenAPI and
 * Swagger UI at /docs, health and readiness, traces, the RAG routes and the chat page at `/`.
 */
import { createHash } from "node:crypto";
import rateLimit from "@fastify/rate-limit";
import swagger from "@fastify/swagger";
import swaggerUi from "@fastify/swagger-ui";
import Fastify, { type FastifyInstance, type FastifyServerOptions } from "fastify";
import { z } from "zod";
import { AppError } from "../../errors/index.js";
import { registerAdminRoutes } from "../../llm-server/routes/admin.js";
import {
  bearerToken,
  edgeServerOptions,
  registerApiKeys,
  registerErrorHandling,
  registerHttpMetrics,
  registerRequestIdHeader,
  sendErrorBody,
} from "../../observability/http/index.js";
import type { TraceLog, Tracer } from "../../observability/tracing/index.js";
import { registerChatPage } from "../../web/index.js";
import type { ReadinessCheck } from "../readiness.js";
import type { RagDependencies } from "../retrieve.js";
import { createGenerationAdmission } from "./admission.js";
import type { RagHttpConfig } from "./config.js";
import { type FeedbackRoutesOptions, registerFeedbackRoutes } from "./feedback-routes.js";
import { registerOpenAiRoutes } from "./openai-routes.js";
import { createRagMetrics, type RagMetrics } from "./rag-metrics.js";
import { registerRagRoutes } from "./rag-routes.js";
import { healthSchema, infoSchema, readySchema, traceByIdSchema, tracesListSchema } from "./schemas.js";

export { DEFAULT_RAG_HTTP_CONFIG, type RagHttpConfig, type RateLimitConfig } from "./config.js";

/** Content types whose body is parsed as JSON besides application/json: `curl -d` sends the first. */
const JSON_LIKE_CONTENT_TYPES = ["application/x-www-form-urlencoded", "text/plain"];

export type RagAppOptions = {
  deps: RagDependencies;
  http: RagHttpConfig;
  tracer: Tracer;
  traceLog: TraceLog;
  readiness: ReadinessCheck;
  metrics?: RagMetrics;
  /** The model answering, as /info reports it; `demo` when it is the offline demo model. */
  model?: { id: string; demo: boolean };
  /** POST/GET /feedback (./feedback-routes.ts); without it the routes are absent. */
  feedback?: FeedbackRoutesOptions;
  logger?: FastifyServerOptions["logger"];
  /** Runs when the app closes (dispose the store, LLM, tracer...). */
  onClose?: () => Promise<void>;
  /** POST /admin/reload (API keys required): re-resolves the model registry references. */
  reload?: () => Promise<unknown>;
};

function rateLimitKey(request: Parameters<NonNullable<Parameters<typeof rateLimit>[1]["keyGenerator"]>>[0]): string {
  const token = bearerToken(request as never);
  if (token !== undefined) return `key:${createHash("sha256").update(token).digest("hex").slice(0, 32)}`;
  return `ip:${request.ip}`;
}

export async function buildRagApp(options: RagAppOptions): Promise<FastifyInstance> {
  const { deps, http, tracer, traceLog, readiness } = options;
  const metrics = options.metrics ?? createRagMetrics();
  const onError = (code: string) => metrics.http.errors.inc({ code });
  const app = Fastify({
    ...edgeServerOptions({
      bodyLimitBytes: http.bodyLimitBytes,
      timeouts: http.timeouts,
      respond: (error, request, reply) => sendErrorBody(error, request, reply, { onError }),
    }),
    logger: options.logger ?? false,
    // Strict bodies: no silent stripping of unknown fields, no "42" → 42 coercion.
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: false } },
  });

  // `curl -d '{...}'` sends application/x-www-form-urlencoded: such bodies are read as JSON too
  // (invalid JSON is a 400); any other content type is 415 unsupported_media_type.
  app.addContentTypeParser(JSON_LIKE_CONTENT_TYPES, { parseAs: "string" }, app.getDefaultJsonParser("error", "error"));
  registerErrorHandling(app, { onError });
  registerRequestIdHeader(app);
  registerHttpMetrics(app, metrics.http);

  if (http.rateLimit !== false) {
    await app.register(rateLimit, {
      global: true,
      max: http.rateLimit.max,
      timeWindow: http.rateLimit.timeWindowMs,
      keyGenerator: rateLimitKey,
      allowList: (request) => request.routeOptions.config?.public === true,
      errorResponseBuilder: (_request, context) =>
        new AppError("rate_limited", `rate limit exceeded: ${context.max} requests per ${context.after}; retry later`, {
          details: { limit: context.max },
        }),
    });
  }
  registerApiKeys(app, http.apiKeys, { failureLimit: http.authFailureLimit });

  await app.register(swagger, {
    openapi: {
      info: {
        title: "llm-twin RAG service",
        description: "Answers in an author's voice from their own articles, posts and code.",
        version: "0.1.0",
      },
      components: { securitySchemes: { bearer: { type: "http", scheme: "bearer" } } },
      ...(http.apiKeys.length > 0 ? { security: [{ bearer: [] }] } : {}),
    },
    // Request bodies are zod schemas (../request-schema.ts); everything else is JSON Schema.
    transform: ({ schema, url }) => {
      const body = (schema as { body?: unknown } | undefined)?.body;
      if (!(body instanceof z.ZodType)) return { schema, url };
      return {
        schema: { ...schema, body: z.toJSONSchema(body, { io: "input", target: "openapi-3.0" }) } as never,
        url,
      };
    },
  });
  await app.register(swaggerUi, { routePrefix: "/docs" });

  app.get("/health", { config: { public: true }, schema: healthSchema }, async () => ({ status: "ok" }));
  app.get("/ready", { config: { public: true }, schema: readySchema }, async (_request, reply) => {
    const result = await readiness();
    if (!result.ready) {
      return reply.status(503).send({ status: "unavailable", reasons: result.reasons, checks: result.checks });
    }
    return { status: "ready", checks: result.checks };
  });

  const model = options.model ?? { id: deps.llm?.id ?? "none", demo: false };
  // Public like /ready: the chat page says when the offline demo model is answering.
  // The request limits a client must keep to (the chat page bounds the history it sends by them).
  const limits = {
    maxQueryChars: deps.config.maxQueryChars,
    maxHistoryTurns: deps.config.maxHistoryTurns,
    maxHistoryChars: deps.config.maxHistoryChars,
  };
  app.get("/info", { config: { public: true }, schema: infoSchema }, async () => ({ model, limits }));

  app.get<{ Querystring: { limit?: string } }>("/traces", { schema: tracesListSchema }, async (request) => ({
    traces: traceLog.list(Math.min(Number(request.query.limit ?? "50"), 10_000)),
  }));
  app.get<{ Params: { id: string } }>("/traces/:id", { schema: traceByIdSchema }, async (request) => {
    const trace = traceLog.get(request.params.id);
    if (trace === undefined) throw new AppError("not_found", `no trace '${request.params.id}' in the trace log`);
    return trace;
  });

  // One admission bound shared by /rag and /v1/chat/completions (both generate).
  const admission = http.maxGenerations === undefined ? undefined : createGenerationAdmission(http.maxGenerations);
  await registerRagRoutes(app, { deps, tracer, metrics, ...(admission === undefined ? {} : { admission }) });
  await registerOpenAiRoutes(app, {
    deps,
    tracer,
    metrics,
    ...(admission === undefined ? {} : { admissionForChat: admission }),
  });
  if (options.reload !== undefined) registerAdminRoutes(app, { apiKeys: http.apiKeys, reload: options.reload });
  if (options.feedback !== undefined) await registerFeedbackRoutes(app, { ...options.feedback, traceLog, metrics });
  await app.register(registerChatPage, {
    listAuthors: deps.listAuthors ?? (() => deps.store.listAuthors()),
  });

  app.addHook("onClose", async () => {
    await tracer[Symbol.asyncDispose]();
    await options.onClose?.();
  });
  return app;
}
