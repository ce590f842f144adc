/**
 * Builds the LLM service's Fastify instance (testable with inject()): the shared HTTP edge
 * (request ids, server timeouts, optional API keys with throttled failures, malformed requests in
 * one shape), TGI, OpenAI and SageMaker routes, /metrics, one error handler, a JSON body parser for
 * any content type (curl -d sends form-urlencoded), the body limit, and request metrics.
 */
import swagger from "@fastify/swagger";
import swaggerUi from "@fastify/swagger-ui";
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from "fastify";
import { jsonSchemaTransform, validatorCompiler } from "fastify-type-provider-zod";
import { AppError } from "../errors/index.js";
import {
  type AuthFailureLimit,
  DEFAULT_AUTH_FAILURE_LIMIT,
  DEFAULT_HTTP_TIMEOUTS,
  edgeServerOptions,
  type HttpTimeouts,
  pathOnly,
  registerApiKeys,
  registerRequestIdHeader,
} from "../observability/http/index.js";
import { responseStatus } from "./client-connection.js";
import { createEmbeddingHolder, type EmbeddingHolder } from "./embedding-holder.js";
import { sendError } from "./http-errors.js";
import type { LlmServerMetrics } from "./metrics.js";
import type { ModelHolder } from "./model-holder.js";
import type { ReloadResult } from "./reload.js";
import { registerAdminRoutes } from "./routes/admin.js";
import { registerEmbeddingsRoute } from "./routes/embeddings.js";
import { registerOpenAiRoutes } from "./routes/openai.js";
import { registerSageMakerRoutes } from "./routes/sagemaker.js";
import { registerTgiRoutes } from "./routes/tgi.js";
import { registerTgiCompatRoute } from "./routes/tgi-compat.js";
import { registerTokenizeRoutes } from "./routes/tokenize.js";

export type LlmServerAppOptions = {
  holder: ModelHolder;
  /** The embedding model (serve-llm --embedding-model); absent: /v1/embeddings is 404. */
  embeddings?: EmbeddingHolder;
  metrics: LlmServerMetrics;
  /** Largest accepted request body in bytes. */
  bodyLimitBytes: number;
  /** Server-side timeouts (headers, whole request, keep-alive); defaults: DEFAULT_HTTP_TIMEOUTS. */
  timeouts?: HttpTimeouts;
  /** Bearer keys; empty or absent = no authentication. */
  apiKeys?: readonly string[];
  /** Failed authentications per client address and window (429 beyond). */
  authFailureLimit?: AuthFailureLimit;
  /** A pino logger; no logging when absent. */
  logger?: FastifyBaseLogger;
  version?: string;
  /** POST /admin/reload (registry rollout); absent: the route answers not_found. */
  reload?: () => Promise<ReloadResult>;
};

export function buildLlmServerApp(options: LlmServerAppOptions): FastifyInstance {
  const app = Fastify({
    ...edgeServerOptions({
      bodyLimitBytes: options.bodyLimitBytes,
      timeouts: options.timeouts ?? DEFAULT_HTTP_TIMEOUTS,
      respond: (error, request, reply) => sendError(request, reply, error),
    }),
    ...(options.logger === undefined ? { logger: false } : { loggerInstance: options.logger }),
  }) as unknown as FastifyInstance;
  const startedAt = Date.now();

  app.removeAllContentTypeParsers();
  app.addContentTypeParser("*", { parseAs: "string" }, (_request, body, done) => {
    const text = typeof body === "string" ? body : body.toString("utf8");
    if (text.trim() === "") {
      done(null, undefined);
      return;
    }
    try {
      done(null, JSON.parse(text));
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      done(new AppError("bad_request", `Request body is not valid JSON: ${message}`), undefined);
    }
  });

  app.addHook("onRequest", async (request, reply) => {
    const startedNs = process.hrtime.bigint();
    reply.raw.once("close", () => {
      const seconds = Number(process.hrtime.bigint() - startedNs) / 1e9;
      const status = reply.raw.writableEnded ? responseStatus(reply.raw) : 499;
      options.metrics.observeRequest(
        { endpoint: request.routeOptions.url ?? "unmatched", method: request.method, status },
        seconds,
      );
    });
  });

  app.setErrorHandler((error, request, reply) => sendError(request, reply, error));
  app.setNotFoundHandler((request, reply) =>
    sendError(request, reply, new AppError("not_found", `No route ${request.method} ${pathOnly(request.url)}`)),
  );
  registerRequestIdHeader(app);
  registerApiKeys(app, options.apiKeys ?? [], { failureLimit: options.authFailureLimit ?? DEFAULT_AUTH_FAILURE_LIMIT });

  // Route body schemas are zod (the type provider makes them the handlers' types; the same
  // schemas feed OpenAPI at /docs). Validation errors keep each API's shape (http-errors.ts).
  app.setValidatorCompiler(validatorCompiler);
  app.register(swagger, {
    openapi: {
      info: {
        title: "llm-twin LLM service",
        description: "A GGUF model on llama.cpp behind the TGI, OpenAI and SageMaker APIs.",
        version: options.version ?? "0.1.0",
      },
      components: { securitySchemes: { bearer: { type: "http", scheme: "bearer" } } },
      ...((options.apiKeys ?? []).length > 0 ? { security: [{ bearer: [] }] } : {}),
    },
    transform: jsonSchemaTransform,
  });
  app.register(swaggerUi, { routePrefix: "/docs" });
  const embeddings = options.embeddings ?? createEmbeddingHolder(false);
  // Routes in a plugin: after swagger's, so that it sees them.
  app.register(async (routes) => {
    registerTgiRoutes(routes, { holder: options.holder, version: options.version ?? "0.1.0", embeddings });
    registerOpenAiRoutes(routes, { holder: options.holder, startedAt, embeddings });
    registerEmbeddingsRoute(routes, { embeddings });
    registerSageMakerRoutes(routes, { holder: options.holder });
    const { reload } = options;
    if (reload !== undefined) registerAdminRoutes(routes, { apiKeys: options.apiKeys ?? [], reload });
    registerTgiCompatRoute(routes, { holder: options.holder });
    registerTokenizeRoutes(routes, { holder: options.holder });
  });
  app.get("/metrics", { schema: { hide: true } }, async (_request, reply) => {
    const body = await options.metrics.registry.metrics();
    return reply.type(options.metrics.registry.contentType).send(body);
  });
  return app;
}
