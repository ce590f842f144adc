/**
 * The twin behind the OpenAI chat API: `POST /v1/chat/completions` (the last user message is the
 * query, earlier user/assistant messages the history; system messages are left out, the twin has
 * its own) and `GET /v1/models` (`twin`, and `twin:<author-id>` per author, which sets the author
 * filter). The same answer pipeline as /rag; the sources travel in an extra `sources` field.
 */
import { randomUUID } from "node:crypto";
import { Readable } from "node:stream";
import type { FastifyInstance } from "fastify";
import { AppError } from "../../errors/index.js";
import { errorBodySchema, logFailure } from "../../observability/http/index.js";
import { describeError } from "../../observability/tracing/index.js";
import { answerStream, errorFromPart } from "../answer.js";
import type { RagDependencies } from "../retrieve.js";
import type { HistoryTurn, RagPart, RagRequest, RagSource } from "../types.js";
import type { GenerationAdmission } from "./admission.js";
import { admissionHooks } from "./admission.js";
import type { RagRoutesOptions } from "./rag-routes.js";
import { clientGoneSignal } from "./rag-routes.js";
import { createStopFilter } from "./stop-filter.js";

export const TWIN_MODEL = "twin";

type ContentPart = { type: string; text?: string };
type ChatMessage = { role: "system" | "user" | "assistant" | "developer"; content: string | ContentPart[] | null };
type ChatCompletionRequest = {
  model: string;
  messages: ChatMessage[];
  stream?: boolean;
  max_tokens?: number;
  max_completion_tokens?: number;
  temperature?: number;
  stop?: string | string[] | null;
  user?: string;
  /** Extra (twin) field: false bypasses the answer cache. */
  cache?: boolean;
  /** OpenAI fields the twin cannot honour: refused unless neutral (refuseUnhonoured). */
  n?: unknown;
  tools?: unknown;
  response_format?: unknown;
  logprobs?: unknown;
};

/**
 * OpenAI fields the twin (one answer, its own prompt) cannot honour: refused, not silently ignored,
 * unless they hold their neutral value (clients send `n: 1`, `tools: []`...). The LLM service
 * (serve-llm) serves them.
 */
function refuseUnhonoured(body: ChatCompletionRequest): void {
  const format = body.response_format as { type?: unknown } | null | undefined;
  const unhonoured = [
    ["n", body.n != null && body.n !== 1],
    ["tools", Array.isArray(body.tools) ? body.tools.length > 0 : body.tools != null],
    ["response_format", format != null && format.type !== "text"],
    ["logprobs", body.logprobs != null && body.logprobs !== false],
  ] as const;
  for (const [field, refused] of unhonoured) {
    if (refused) {
      throw new AppError(
        "validation_error",
        `'${field}' is not supported by the twin (one answer in the author's voice); call the LLM service (serve-llm) for it`,
        { details: { field } },
      );
    }
  }
}

const chatRequestSchema = {
  type: "object",
  required: ["model", "messages"],
  properties: {
    model: { type: "string", minLength: 1, description: "`twin`, or `twin:<author-id>` to answer as that author" },
    messages: {
      type: "array",
      minItems: 1,
      items: {
        type: "object",
        required: ["role"],
        properties: {
          role: { type: "string", enum: ["system", "developer", "user", "assistant"] },
          content: {
            anyOf: [
              { type: "string" },
              { type: "null" },
              { type: "array", items: { type: "object", properties: { type: { type: "string" } } } },
            ],
          },
        },
      },
    },
    stream: { type: "boolean" },
    max_tokens: { type: "integer", minimum: 1 },
    max_completion_tokens: { type: "integer", minimum: 1 },
    temperature: { type: "number", minimum: 0, maximum: 2 },
    stop: { anyOf: [{ type: "string" }, { type: "array", maxItems: 4, items: { type: "string" } }, { type: "null" }] },
    user: { type: "string", maxLength: 256 },
    cache: { type: "boolean", description: "Extra field: false bypasses the twin's answer cache" },
  },
} as const;

const errors = { 401: errorBodySchema, 422: errorBodySchema, 429: errorBodySchema, 503: errorBodySchema } as const;

function textOf(content: ChatMessage["content"]): string {
  if (typeof content === "string") return content;
  if (content === null) return "";
  return content
    .filter((part) => part.type === "text" && typeof part.text === "string")
    .map((part) => part.text)
    .join("\n");
}

/** The /rag request an OpenAI chat request stands for. */
export function toRagRequest(body: ChatCompletionRequest): RagRequest {
  refuseUnhonoured(body);
  const turns = body.messages
    .filter((message) => message.role === "user" || message.role === "assistant")
    .map((message) => ({ role: message.role as HistoryTurn["role"], content: textOf(message.content) }))
    .filter((turn) => turn.content.trim() !== "");
  const last = turns.at(-1);
  if (last?.role !== "user") {
    throw new AppError("validation_error", "'messages' must end with a non-empty user message (the question)", {
      details: { field: "messages" },
    });
  }
  const author = authorOfModel(body.model);
  const maxNewTokens = body.max_completion_tokens ?? body.max_tokens;
  return {
    query: last.content,
    ...(turns.length > 1 ? { history: turns.slice(0, -1) } : {}),
    ...(author === undefined ? {} : { author }),
    ...(maxNewTokens === undefined ? {} : { maxNewTokens }),
    ...(body.temperature === undefined ? {} : { temperature: body.temperature }),
    ...(body.cache === undefined ? {} : { cache: body.cache }),
  };
}

function authorOfModel(model: string): string | undefined {
  if (model === TWIN_MODEL) return undefined;
  if (model.startsWith(`${TWIN_MODEL}:`) && model.length > TWIN_MODEL.length + 1) {
    return model.slice(TWIN_MODEL.length + 1);
  }
  throw new AppError(
    "validation_error",
    `unknown model '${model}': use 'twin' or 'twin:<author-id>' (GET /v1/models)`,
    {
      details: { field: "model" },
    },
  );
}

const finishReason = (reason: string): "stop" | "length" => (reason === "length" ? "length" : "stop");

export async function registerOpenAiRoutes(
  app: FastifyInstance,
  options: RagRoutesOptions & { admissionForChat?: GenerationAdmission },
): Promise<void> {
  const { deps, tracer, metrics } = options;
  const listAuthors = (deps: RagDependencies) =>
    deps.listAuthors === undefined ? deps.store.listAuthors() : deps.listAuthors(AbortSignal.timeout(10_000));

  const twinModels = async () => {
    const authors = await listAuthors(deps);
    const model = (id: string) => ({ id, object: "model", created: 0, owned_by: "llm-twin" });
    return [model(TWIN_MODEL), ...authors.map((author) => model(`${TWIN_MODEL}:${author.id}`))];
  };
  app.get("/v1/models", { schema: { summary: "The twin models (OpenAI API)", tags: ["openai"] } }, async () => ({
    object: "list",
    data: await twinModels(),
  }));
  app.get<{ Params: { model: string } }>(
    "/v1/models/:model",
    { schema: { summary: "One twin model (OpenAI's models.retrieve)", tags: ["openai"] } },
    async (request) => {
      const found = (await twinModels()).find((model) => model.id === request.params.model);
      if (found !== undefined) return found;
      throw new AppError(
        "model_not_found",
        `unknown model '${request.params.model}': use 'twin' or 'twin:<author-id>' (GET /v1/models)`,
      );
    },
  );

  const admission = options.admissionForChat === undefined ? {} : admissionHooks(options.admissionForChat);
  app.post<{ Body: ChatCompletionRequest }>(
    "/v1/chat/completions",
    {
      schema: {
        summary: "Chat with the twin (OpenAI API)",
        tags: ["openai"],
        body: chatRequestSchema,
        response: errors,
      },
      ...admission,
    },
    async (request, reply) => {
      const body = request.body;
      const ragRequest = toRagRequest(body);
      const signal = clientGoneSignal(reply);
      const trace = tracer.startTrace("chat-completions", {
        requestId: request.id,
        route: "/v1/chat/completions",
        query: ragRequest.query,
        requestedAuthor: ragRequest.author ?? null,
        model: body.model,
        user: body.user ?? null,
      });
      reply.header("x-trace-id", trace.id);
      const id = `chatcmpl-${randomUUID()}`;
      const created = Math.floor(Date.now() / 1000);
      const stops = body.stop === undefined || body.stop === null ? [] : [body.stop].flat();
      const parts = answerStream(ragRequest, deps, { signal, trace });
      let first: IteratorResult<RagPart, void>;
      try {
        first = await parts.next();
      } catch (error) {
        trace.end(error);
        throw error;
      }
      const chunk = (delta: Record<string, unknown>, finish: string | null, extra: Record<string, unknown> = {}) => ({
        id,
        object: "chat.completion.chunk",
        created,
        model: body.model,
        choices: [{ index: 0, delta, finish_reason: finish }],
        ...extra,
      });

      if (body.stream !== true) {
        let sources: RagSource[] = [];
        const filter = createStopFilter(stops);
        let text = "";
        try {
          for (let current = first; current.done !== true; current = await parts.next()) {
            const part = current.value;
            if (part.type === "sources") sources = part.sources;
            else if (part.type === "token") text += filter.push(part.text);
            else if (part.type === "error") throw errorFromPart(part);
            else {
              metrics.observeTimings(part.timings);
              text += filter.end();
              trace.end();
              const { promptTokens, completionTokens } = part.usage;
              return {
                id,
                object: "chat.completion",
                created,
                model: body.model,
                choices: [
                  {
                    index: 0,
                    message: { role: "assistant", content: text },
                    finish_reason: filter.stopped ? "stop" : finishReason(part.finishReason),
                  },
                ],
                usage: {
                  prompt_tokens: promptTokens,
                  completion_tokens: completionTokens,
                  total_tokens: promptTokens + completionTokens,
                },
                sources,
                ...cachedFields(part),
              };
            }
          }
        } catch (error) {
          trace.end(error);
          throw error;
        } finally {
          await parts.return?.();
        }
        trace.end();
        throw new AppError("internal_error", "the answer stream ended without a result");
      }

      async function* frames(): AsyncGenerator<string> {
        const filter = createStopFilter(stops);
        let failure: unknown;
        try {
          for (let current = first; current.done !== true; current = await parts.next()) {
            const part = current.value;
            if (part.type === "sources") {
              yield data(chunk({ role: "assistant", content: "" }, null, { sources: part.sources }));
            } else if (part.type === "token") {
              const text = filter.push(part.text);
              if (text !== "") yield data(chunk({ content: text }, null));
            } else if (part.type === "error") {
              failure = errorFromPart(part);
              yield data({ error: { code: part.code, message: part.message, requestId: request.id } });
            } else {
              metrics.observeTimings(part.timings);
              const rest = filter.end();
              if (rest !== "") yield data(chunk({ content: rest }, null));
              const { promptTokens, completionTokens } = part.usage;
              yield data(
                chunk({}, filter.stopped ? "stop" : finishReason(part.finishReason), {
                  usage: {
                    prompt_tokens: promptTokens,
                    completion_tokens: completionTokens,
                    total_tokens: promptTokens + completionTokens,
                  },
                  ...cachedFields(part),
                }),
              );
            }
          }
        } catch (error) {
          failure = error;
          const { code, message } = describeError(error);
          const safe = code === "internal_error" ? "internal error" : message;
          yield data({ error: { code, message: safe, requestId: request.id } });
        } finally {
          await parts.return?.();
          if (failure !== undefined) logFailure(request, failure, "stream");
          trace.end(failure ?? (signal.aborted ? signal.reason : undefined));
        }
        yield "data: [DONE]\n\n";
      }
      reply
        .type("text/event-stream; charset=utf-8")
        .header("cache-control", "no-cache, no-transform")
        .header("x-accel-buffering", "no");
      return reply.send(Readable.from(frames(), { objectMode: false }));
    },
  );
}

/** Extra fields of an answer-cache hit: `cached: true` and the entry's age. */
function cachedFields(part: Extract<RagPart, { type: "done" }>): Record<string, unknown> {
  return part.cached === undefined ? {} : { cached: true, cache_age_ms: part.cached.ageMs };
}

function data(value: unknown): string {
  return `data: ${JSON.stringify(value)}\n\n`;
}
