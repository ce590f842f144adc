/** JSON schemas of the RAG routes: they validate requests, serialize responses and feed OpenAPI. */
import { DATA_CATEGORIES } from "../../domain/index.js";
import { errorBodySchema } from "../../observability/http/index.js";
import { ragRequestSchema } from "../request-schema.js";

/** The request body: one zod schema, also the RagRequest type (see ../request-schema.ts). */
export { ragRequestSchema };

const authorSchema = {
  type: "object",
  required: ["id", "fullName"],
  properties: { id: { type: "string" }, fullName: { type: "string" } },
} as const;

export const sourceSchema = {
  type: "object",
  required: ["id", "documentId", "title", "link", "author", "category", "score", "text"],
  properties: {
    id: { type: "string", description: "Chunk id" },
    documentId: { type: "string" },
    title: { type: "string" },
    link: { type: "string" },
    author: authorSchema,
    category: { type: "string", enum: [...DATA_CATEGORIES] },
    score: { type: "number", description: "Reranker score, or the reciprocal-rank-fusion score without a reranker" },
    text: { type: "string" },
  },
} as const;

export const timingsSchema = {
  type: "object",
  required: ["selfQueryMs", "expansionMs", "embeddingMs", "searchMs", "rerankMs", "generationMs", "totalMs"],
  properties: {
    selfQueryMs: { type: "number" },
    expansionMs: { type: "number" },
    embeddingMs: { type: "number" },
    searchMs: { type: "number" },
    rerankMs: { type: "number" },
    generationMs: { type: "number" },
    totalMs: { type: "number" },
    rerank: {
      type: "string",
      enum: ["model", "fallback"],
      description:
        "Present with a reranker: model = it ranked; fallback = it failed or timed out and the fusion order was kept",
    },
  },
} as const;

const modelVersionSchema = {
  type: "object",
  required: ["name", "version"],
  properties: { name: { type: "string" }, version: { type: ["integer", "null"] } },
} as const;

/** The model and adapter that generated the answer (versions: the model registry's; null outside it). */
export const servedModelSchema = {
  type: "object",
  required: ["name", "version", "adapter"],
  properties: {
    ...modelVersionSchema.properties,
    adapter: { anyOf: [modelVersionSchema, { type: "null" }] },
  },
} as const;

export const usageSchema = {
  type: "object",
  required: ["promptTokens", "completionTokens"],
  properties: { promptTokens: { type: "integer" }, completionTokens: { type: "integer" } },
} as const;

const errorResponses = {
  400: errorBodySchema,
  401: errorBodySchema,
  408: errorBodySchema,
  413: errorBodySchema,
  415: errorBodySchema,
  422: errorBodySchema,
  429: errorBodySchema,
  500: errorBodySchema,
  502: errorBodySchema,
  503: errorBodySchema,
  504: errorBodySchema,
} as const;

export const ragRouteSchema = {
  summary: "Answer in the author's voice, grounded in retrieved sources",
  description:
    "JSON by default. With `stream: true` or `Accept: text/event-stream` the answer is server-sent events: " +
    "`sources` {sources, author, queries}, then `token` {text} events, then `done` {answer, finishReason, usage, timings, historyTurnsUsed, model, cached?: {ageMs, similarity}}; " +
    "a failure after the sources is an `error` event {code, message, requestId} and the stream ends.",
  tags: ["rag"],
  body: ragRequestSchema,
  produces: ["application/json", "text/event-stream"],
  response: {
    200: {
      type: "object",
      required: ["answer", "sources", "usage", "timings", "historyTurnsUsed"],
      properties: {
        answer: { type: "string" },
        sources: { type: "array", items: sourceSchema },
        usage: usageSchema,
        timings: timingsSchema,
        historyTurnsUsed: {
          type: "integer",
          description: "Earlier turns that fit in the generation prompt (the most recent ones)",
        },
        model: servedModelSchema,
        cached: { type: "boolean", description: "Present (true) when the answer came from the answer cache" },
        cacheAgeMs: { type: "number", description: "With cached: the age of the cached answer, in milliseconds" },
      },
    },
    ...errorResponses,
  },
} as const;

export const retrieveRouteSchema = {
  summary: "Retrieve the sources for a request without generating",
  tags: ["rag"],
  body: ragRequestSchema,
  response: {
    200: {
      type: "object",
      required: ["sources", "timings"],
      properties: {
        sources: { type: "array", items: sourceSchema },
        timings: timingsSchema,
        author: { anyOf: [authorSchema, { type: "null" }] },
        standaloneQuery: {
          type: "string",
          description: "The question searched: the query, or its condensed standalone rewrite with history",
        },
        queries: { type: "array", items: { type: "string" } },
      },
    },
    ...errorResponses,
  },
} as const;

const checkSchema = {
  type: "object",
  required: ["ok"],
  properties: { ok: { type: "boolean" }, message: { type: "string" } },
} as const;

export const readySchema = {
  summary: "Readiness: store and LLM reachable, fingerprint checked",
  tags: ["health"],
  response: {
    200: {
      type: "object",
      required: ["status", "checks"],
      properties: { status: { type: "string" }, checks: { type: "object", additionalProperties: checkSchema } },
    },
    503: {
      type: "object",
      required: ["status", "checks"],
      properties: {
        status: { type: "string" },
        reasons: { type: "array", items: { type: "string" } },
        checks: { type: "object", additionalProperties: checkSchema },
      },
    },
  },
} as const;

export const healthSchema = {
  summary: "Liveness",
  tags: ["health"],
  response: { 200: { type: "object", required: ["status"], properties: { status: { type: "string" } } } },
} as const;

const traceSchema = { type: "object", additionalProperties: true } as const;

export const tracesListSchema = {
  summary: "The latest request traces, newest first",
  tags: ["traces"],
  querystring: {
    type: "object",
    additionalProperties: false,
    properties: { limit: { type: "string", pattern: "^[1-9][0-9]{0,4}$", description: "How many (default 50)" } },
  },
  response: {
    200: { type: "object", required: ["traces"], properties: { traces: { type: "array", items: traceSchema } } },
    ...errorResponses,
  },
} as const;

export const traceByIdSchema = {
  summary: "One request trace with its spans",
  tags: ["traces"],
  params: { type: "object", required: ["id"], properties: { id: { type: "string", maxLength: 64 } } },
  response: { 200: traceSchema, 404: errorBodySchema, 401: errorBodySchema, 429: errorBodySchema },
} as const;

export const infoSchema = {
  summary: "The model answering and the request limits",
  description:
    "`model.demo` is true when the offline demo model answers (a random-weight GGUF generated locally: retrieval and sources are real, the text is gibberish). `limits`: the longest `query` (characters) and the most `history` turns and characters a request may send (--max-query-chars, --max-history-turns, --max-history-chars).",
  response: {
    200: {
      type: "object",
      required: ["model", "limits"],
      properties: {
        model: {
          type: "object",
          required: ["id", "demo"],
          properties: { id: { type: "string" }, demo: { type: "boolean" } },
        },
        limits: {
          type: "object",
          required: ["maxQueryChars", "maxHistoryTurns", "maxHistoryChars"],
          properties: {
            maxQueryChars: { type: "integer" },
            maxHistoryTurns: { type: "integer" },
            maxHistoryChars: { type: "integer" },
          },
        },
      },
    },
  },
} as const;
