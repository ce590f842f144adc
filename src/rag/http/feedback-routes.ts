/**
 * Feedback on answers: `POST /feedback {traceId, rating: "up" | "down", comment?}` stores the
 * rating with a snapshot of the trace (an unknown trace is a 404), `GET /feedback?rating=down`
 * lists them newest first with their traces (what `llm-twin traces --feedback down` reads), and
 * `llm_twin_rag_feedback_total{rating}` counts them in /metrics. Behind the same API keys and rate
 * limits as every non-public route (registered by app.ts before this plugin).
 */
import type { FastifyInstance } from "fastify";
import { Counter } from "prom-client";
import { AppError } from "../../errors/index.js";
import { errorBodySchema } from "../../observability/http/index.js";
import type { TraceLog } from "../../observability/tracing/index.js";
import { FEEDBACK_RATINGS, type FeedbackEntry, type FeedbackRating, type FeedbackStore } from "../feedback/store.js";
import type { RagMetrics } from "./rag-metrics.js";

export type FeedbackRoutesOptions = {
  store: FeedbackStore;
  /** Longest accepted comment, in characters. */
  commentMaxChars: number;
  /** Called once a feedback is stored (the service sends it on as an OTLP event). */
  onFeedback?: (entry: FeedbackEntry) => void;
};

export const DEFAULT_FEEDBACK_COMMENT_MAX_CHARS = 2000;

const errors = {
  400: errorBodySchema,
  401: errorBodySchema,
  404: errorBodySchema,
  429: errorBodySchema,
  503: errorBodySchema,
} as const;

type FeedbackBody = { traceId: string; rating: FeedbackRating; comment?: string };

export async function registerFeedbackRoutes(
  app: FastifyInstance,
  options: FeedbackRoutesOptions & { traceLog: TraceLog; metrics: RagMetrics },
): Promise<void> {
  const { store, traceLog, metrics } = options;
  const counter = new Counter({
    name: "llm_twin_rag_feedback_total",
    help: "Feedback received on answers (POST /feedback), by rating",
    labelNames: ["rating"],
    registers: [metrics.http.registry],
  });
  for (const rating of FEEDBACK_RATINGS) counter.inc({ rating }, 0);

  app.post<{ Body: FeedbackBody }>(
    "/feedback",
    {
      schema: {
        summary: "Rate an answer (thumbs up or down, optional comment), by the trace id of its response",
        tags: ["feedback"],
        body: {
          type: "object",
          required: ["traceId", "rating"],
          additionalProperties: false,
          properties: {
            traceId: { type: "string", pattern: "^[0-9a-f]{32}$", description: "The x-trace-id of the answer" },
            rating: { type: "string", enum: [...FEEDBACK_RATINGS] },
            comment: { type: "string", maxLength: options.commentMaxChars },
          },
        },
        response: {
          201: {
            type: "object",
            required: ["traceId", "rating", "createdAt"],
            properties: {
              traceId: { type: "string" },
              rating: { type: "string" },
              comment: { type: "string" },
              createdAt: { type: "string" },
            },
          },
          ...errors,
        },
      },
    },
    async (request, reply) => {
      const { traceId, rating, comment } = request.body;
      const trace = traceLog.get(traceId);
      if (trace === undefined) {
        throw new AppError("not_found", `no trace '${traceId}' in the trace log (give the x-trace-id of an answer)`);
      }
      const entry = {
        traceId,
        rating,
        ...(comment === undefined || comment.trim() === "" ? {} : { comment }),
        createdAt: new Date().toISOString(),
        trace,
      };
      await store.add(entry);
      counter.inc({ rating });
      options.onFeedback?.(entry);
      const { trace: _trace, ...body } = entry;
      return reply.status(201).send(body);
    },
  );

  app.get<{ Querystring: { rating?: FeedbackRating; limit?: string } }>(
    "/feedback",
    {
      schema: {
        summary: "Feedback received, newest first, each with the answer's trace",
        tags: ["feedback"],
        querystring: {
          type: "object",
          additionalProperties: false,
          properties: {
            rating: { type: "string", enum: [...FEEDBACK_RATINGS] },
            limit: { type: "string", pattern: "^[1-9][0-9]{0,4}$", description: "How many (default 50)" },
          },
        },
        response: {
          200: {
            type: "object",
            required: ["feedback"],
            properties: { feedback: { type: "array", items: { type: "object", additionalProperties: true } } },
          },
          ...errors,
        },
      },
    },
    async (request) => ({
      feedback: await store.list({
        ...(request.query.rating === undefined ? {} : { rating: request.query.rating }),
        limit: Number(request.query.limit ?? "50"),
      }),
    }),
  );

  app.addHook("onClose", async () => {
    await store[Symbol.asyncDispose]();
  });
}
