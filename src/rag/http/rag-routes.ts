/**
 * POST /rag and POST /retrieve. A client that goes away aborts the request's signal, which
 * cancels whatever upstream call is running (the LLM generation above all).
 */
import { Readable } from "node:stream";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { validatorCompiler, type ZodTypeProvider } from "fastify-type-provider-zod";
import { AppError } from "../../errors/index.js";
import { logFailure } from "../../observability/http/index.js";
import type { ActiveTrace, Tracer } from "../../observability/tracing/index.js";
import { describeError } from "../../observability/tracing/index.js";
import { answerOnce, answerStream, errorFromPart } from "../answer.js";
import type { RagDependencies } from "../retrieve.js";
import { retrieve } from "../retrieve.js";
import type { RagPart, RagRequest, RagTimings } from "../types.js";
import { admissionHooks, type GenerationAdmission } from "./admission.js";
import type { RagMetrics } from "./rag-metrics.js";
import { ragRouteSchema, retrieveRouteSchema } from "./schemas.js";
import { sseEvent, wantsEventStream } from "./sse.js";

export type RagRoutesOptions = {
  deps: RagDependencies;
  tracer: Tracer;
  metrics: RagMetrics;
  /** Bound on /rag requests in flight (429 beyond, before any work); none = unbounded. */
  admission?: GenerationAdmission;
};

/** An AbortSignal that fires when the client disconnects before the response is complete. */
export function clientGoneSignal(reply: FastifyReply): AbortSignal {
  const controller = new AbortController();
  reply.raw.once("close", () => {
    if (!reply.raw.writableFinished) {
      controller.abort(new AppError("aborted", "the client disconnected"));
    }
  });
  return controller.signal;
}

function startTrace(tracer: Tracer, name: string, request: FastifyRequest, body: RagRequest): ActiveTrace {
  return tracer.startTrace(name, {
    requestId: request.id,
    route: request.routeOptions.url ?? request.url,
    query: body.query,
    requestedAuthor: body.author ?? null,
  });
}

async function* sseFrames(
  first: IteratorResult<RagPart, void>,
  parts: AsyncIterator<RagPart, void>,
  hooks: { requestId: string; onPart(part: RagPart): void; onEnd(error?: unknown): void },
): AsyncGenerator<string> {
  let failure: unknown;
  try {
    let current = first;
    while (current.done !== true) {
      const part = current.value;
      hooks.onPart(part);
      if (part.type === "error") {
        failure = errorFromPart(part);
        yield sseEvent("error", { code: part.code, message: part.message, requestId: hooks.requestId });
      } else if (part.type === "token") {
        yield sseEvent("token", { text: part.text });
      } else {
        const { type: _type, ...data } = part;
        yield sseEvent(part.type, data);
      }
      current = await parts.next();
    }
  } catch (error) {
    // A failure after the headers went out: report it in-band and end the stream cleanly.
    failure = error;
    const { code, message } = describeError(error);
    const safe = code === "internal_error" ? "internal error" : message;
    hooks.onPart({ type: "error", code: code as never, message: safe });
    yield sseEvent("error", { code, message: safe, requestId: hooks.requestId });
  } finally {
    await parts.return?.();
    hooks.onEnd(failure);
  }
}

export async function registerRagRoutes(app: FastifyInstance, options: RagRoutesOptions): Promise<void> {
  const { deps, tracer, metrics } = options;

  const observeTimings = (timings: RagTimings) => metrics.observeTimings(timings);

  const admission = options.admission === undefined ? {} : admissionHooks(options.admission, metrics);
  // Bodies are checked by their zod schema (also their type, and their OpenAPI document), in a
  // scope of their own: the service's other routes keep JSON Schema.
  await app.register(async (scope) => {
    scope.setValidatorCompiler(validatorCompiler);
    const typed = scope.withTypeProvider<ZodTypeProvider>();
    typed.post("/rag", { schema: ragRouteSchema, ...admission }, async (request, reply) => {
      const body = request.body;
      const signal = clientGoneSignal(reply);
      const trace = startTrace(tracer, "rag", request, body);
      reply.header("x-trace-id", trace.id);
      if (!wantsEventStream(request.headers.accept, body.stream)) {
        try {
          const response = await answerOnce(body, deps, { signal, trace });
          observeTimings(response.timings);
          reply.header("server-timing", `total;dur=${response.timings.totalMs.toFixed(3)}`);
          trace.end();
          return response;
        } catch (error) {
          trace.end(error);
          throw error;
        }
      }
      const parts = answerStream(body, deps, { signal, trace });
      let first: IteratorResult<RagPart, void>;
      try {
        first = await parts.next();
      } catch (error) {
        trace.end(error);
        throw error;
      }
      const frames = sseFrames(first, parts, {
        requestId: request.id,
        onPart(part) {
          if (part.type === "done") observeTimings(part.timings);
          if (part.type === "error") metrics.http.errors.inc({ code: part.code });
        },
        onEnd(error) {
          if (error !== undefined) logFailure(request, error, "stream");
          trace.end(error ?? (signal.aborted ? signal.reason : undefined));
        },
      });
      reply
        .type("text/event-stream; charset=utf-8")
        .header("cache-control", "no-cache, no-transform")
        .header("x-accel-buffering", "no");
      return reply.send(Readable.from(frames, { objectMode: false }));
    });

    typed.post("/retrieve", { schema: retrieveRouteSchema }, async (request, reply) => {
      const body = request.body;
      const signal = clientGoneSignal(reply);
      const trace = startTrace(tracer, "retrieve", request, body);
      reply.header("x-trace-id", trace.id);
      try {
        const result = await retrieve(body, deps, { signal, trace });
        observeTimings(result.timings);
        trace.setAttributes({ sourceIds: result.sources.map((source) => source.id) });
        trace.end();
        return {
          sources: result.sources,
          timings: result.timings,
          author: result.author ?? null,
          standaloneQuery: result.standaloneQuery,
          queries: result.queries,
        };
      } catch (error) {
        trace.end(error);
        throw error;
      }
    });
  });
}
