/**
 * TGI's API: POST /generate, POST /generate_stream (SSE), GET /info, GET /health, and the same
 * generation behind SageMaker's POST /invocations (see sagemaker.ts).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { AppError, HTTP_STATUS } from "../../errors/index.js";
import {
  checkChoices,
  choiceLimit,
  type EngineEvent,
  type LlamaCppEngine,
  runChoices,
} from "../../llm/llama-cpp/index.js";
import type { FinishReason } from "../../llm/port.js";
import { clientDisconnectSignal, markStreamFailed, startSse } from "../client-connection.js";
import type { EmbeddingHolder } from "../embedding-holder.js";
import { errorBody, toAppError } from "../http-errors.js";
import type { ModelHolder } from "../model-holder.js";
import { MAX_STOP_SEQUENCES, type ParsedTgiRequest, parseTgiRequest, tgiRequestSchema } from "../schemas-tgi.js";
import { tgiTokenEvent } from "../sse-chunks.js";
import { registryMeta } from "./served-models.js";

export type TgiRouteOptions = { holder: ModelHolder; version: string; embeddings?: EmbeddingHolder };

type TgiToken = { id: number; text: string; logprob: number | null; special: boolean };

const TGI_FINISH_REASON: Record<FinishReason, string> = {
  length: "length",
  eos: "eos_token",
  stop: "stop_sequence",
};

export function registerTgiRoutes(app: FastifyInstance, options: TgiRouteOptions): void {
  const { holder } = options;
  const typed = app.withTypeProvider<ZodTypeProvider>();
  const tags = ["TGI"];
  typed.post(
    "/generate",
    { schema: { tags, summary: "Generate text", body: tgiRequestSchema } },
    async (request, reply) => {
      const engine = holder.require();
      const parsed = parseTgiRequest(request.body);
      return reply.send(await generateTgi(engine, parsed, request, reply));
    },
  );
  typed.post(
    "/generate_stream",
    { schema: { tags, summary: "Generate text as server-sent events, one per token", body: tgiRequestSchema } },
    async (request, reply) => {
      const engine = holder.require();
      await streamTgi(engine, parseTgiRequest(request.body), request, reply);
    },
  );
  app.get(
    "/health",
    { config: { public: true }, schema: { tags, summary: "200 when serving, 503 while loading" } },
    async (_request, reply) => {
      holder.require();
      return reply.code(200).send();
    },
  );
  app.get("/info", { schema: { tags, summary: "Model, limits and runtime" } }, async () => {
    const engine = holder.require();
    return {
      model_id: engine.modelId,
      model_sha: null,
      model_dtype: "gguf",
      model_device_type: "cpu",
      model_pipeline_tag: "text-generation",
      max_concurrent_requests: engine.info.maxConcurrentRequests,
      max_best_of: choiceLimit(engine),
      max_stop_sequences: MAX_STOP_SEQUENCES,
      max_input_tokens: engine.limits.maxInputTokens,
      max_input_length: engine.limits.maxInputTokens,
      max_total_tokens: engine.limits.maxTotalTokens,
      max_new_tokens: engine.limits.maxNewTokens,
      max_batch_size: engine.info.parallel,
      max_waiting_requests: engine.info.maxQueue,
      max_client_batch_size: 1,
      // Requests are validated and tokenized on the service's one JavaScript thread.
      validation_workers: 1,
      threads: engine.info.threads,
      threads_batch: engine.info.threadsBatch,
      engine: engine.info.engine,
      llama_cpp_build: engine.info.runtime.build,
      llama_cpp_openmp: engine.info.runtime.openmp,
      // libuv reads it once when its pool starts; bin/llm-twin.js sets 1 for the serving commands.
      uv_threadpool_size: Number(process.env.UV_THREADPOOL_SIZE ?? 4),
      chat_template: engine.info.chatTemplate,
      chat_template_tools: engine.info.chatTemplateTools,
      adapters: engine.info.adapters.map((adapter) => ({ ...adapter, ...registryMeta(holder, adapter.name) })),
      model_registry: holder.served.model,
      prompt_cache: engine.info.promptCache,
      embedding_model: embeddingModelInfo(options.embeddings),
      router: "llm-twin",
      version: options.version,
      sha: null,
      docker_label: null,
    };
  });
}

/** /info's `embedding_model`: null without --embedding-model, `{state: "loading" | "failed"}` until it is loaded. */
function embeddingModelInfo(embeddings: EmbeddingHolder | undefined): Record<string, unknown> | null {
  if (embeddings === undefined || !embeddings.configured) return null;
  const served = embeddings.model;
  if (served === undefined) return { state: embeddings.failed ? "failed" : "loading" };
  return {
    state: "ready",
    id: served.name,
    embedder_id: served.embedder.id,
    dimensions: served.embedder.dimensions,
    max_input_tokens: served.embedder.maxInputTokens,
    max_inputs: served.maxInputs,
    registry: served.registry ?? null,
  };
}

type Sequence = {
  tokens: TgiToken[];
  topTokens: TgiToken[][];
  logprobSum: number;
  start?: Extract<EngineEvent, { type: "start" }>;
  done?: Extract<EngineEvent, { type: "done" }>;
};

/**
 * Runs a TGI request to completion; the shape of /generate's response. With `best_of` > 1 it
 * generates that many sequences and returns the one with the highest total logprob, the others
 * in details.best_of_sequences (as TGI does).
 */
export async function generateTgi(
  engine: LlamaCppEngine,
  parsed: ParsedTgiRequest,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<Record<string, unknown>> {
  checkChoices(engine, parsed.bestOf, "best_of");
  checkTruncate(engine, parsed);
  const validationMs = reply.elapsedTime;
  const signal = clientDisconnectSignal(request, reply);
  const wantDetails = parsed.details;
  const sequences: Sequence[] = Array.from({ length: parsed.bestOf }, () => ({
    tokens: [],
    topTokens: [],
    logprobSum: 0,
  }));
  const run = runChoices(
    engine,
    {
      ...parsed.engineRequest,
      parameters: { ...parsed.engineRequest.parameters, logprobs: wantDetails || parsed.bestOf > 1 },
      signal,
    },
    parsed.bestOf,
  );
  for await (const { choice, event } of run) {
    const sequence = sequences[choice];
    if (sequence === undefined) continue;
    if (event.type === "start") sequence.start = event;
    else if (event.type === "token") {
      sequence.logprobSum += event.logprob ?? 0;
      if (wantDetails) {
        const token = { id: event.id, text: event.text, logprob: event.logprob, special: event.special };
        const previous = sequence.tokens.at(-1);
        if (previous !== undefined) moveTextOffSpecial(previous, token);
        sequence.tokens.push(token);
        if (parsed.topNTokens > 0) sequence.topTokens.push(topTokens(event));
      }
    } else sequence.done = event;
  }
  const best = sequences.reduce((winner, sequence) => (sequence.logprobSum > winner.logprobSum ? sequence : winner));
  const { done, start } = best;
  if (done === undefined || start === undefined) throw new Error("generation ended without a result");
  reply.headers(timingHeaders(parsed, { validationMs, totalMs: reply.elapsedTime, start, done }));
  const response: Record<string, unknown> = { generated_text: generatedText(parsed, done) };
  if (wantDetails) {
    const others = sequences.filter((sequence) => sequence !== best);
    response.details = {
      finish_reason: TGI_FINISH_REASON[done.finishReason],
      generated_tokens: done.completionTokens,
      input_length: done.promptTokens,
      ...sequenceDetails(engine, parsed, best),
      ...(parsed.bestOf > 1
        ? {
            best_of_sequences: others.map((sequence) => ({
              generated_text: sequence.done === undefined ? "" : generatedText(parsed, sequence.done),
              finish_reason: sequence.done === undefined ? null : TGI_FINISH_REASON[sequence.done.finishReason],
              generated_tokens: sequence.done?.completionTokens ?? 0,
              ...sequenceDetails(engine, parsed, sequence),
            })),
          }
        : {}),
    };
  }
  return response;
}

/**
 * The timing headers TGI's /generate answers with (milliseconds, whole; its load tests and users'
 * scripts read `x-time-per-token`, `x-prompt-tokens`...): validation = arrival to the engine
 * request, queue = waiting for a sequence, inference = the rest.
 */
function timingHeaders(
  parsed: ParsedTgiRequest,
  timing: {
    validationMs: number;
    totalMs: number;
    start: Extract<EngineEvent, { type: "start" }>;
    done: Extract<EngineEvent, { type: "done" }>;
  },
): Record<string, string> {
  const { validationMs, totalMs, start, done } = timing;
  const inferenceMs = Math.max(0, totalMs - validationMs - start.queueMs);
  const whole = (ms: number): string => String(Math.floor(ms));
  return {
    "x-compute-type": "cpu",
    "x-compute-time": String(totalMs / 1000),
    "x-compute-characters": String(parsed.inputs.length),
    "x-total-time": whole(totalMs),
    "x-validation-time": whole(validationMs),
    "x-queue-time": whole(start.queueMs),
    "x-inference-time": whole(inferenceMs),
    "x-time-per-token": whole(done.completionTokens > 0 ? inferenceMs / done.completionTokens : 0),
    "x-prompt-tokens": String(done.promptTokens),
    "x-generated-tokens": String(done.completionTokens),
  };
}

/** TGI's rule: `truncate` keeps at most the input limit's tokens, so a larger value is a mistake (422). */
function checkTruncate(engine: LlamaCppEngine, parsed: ParsedTgiRequest): void {
  const truncate = parsed.engineRequest.parameters.truncate;
  const limit = engine.limits.maxInputTokens;
  if (truncate !== undefined && truncate > limit) {
    throw new AppError(
      "validation_error",
      `Input validation error: \`truncate\` must be strictly positive and at most ${limit} (the input token limit, serve-llm --max-input-tokens). Given: ${truncate}`,
    );
  }
}

function generatedText(parsed: ParsedTgiRequest, done: Extract<EngineEvent, { type: "done" }>): string {
  return parsed.returnFullText ? parsed.inputs + done.generatedText : done.generatedText;
}

/** seed, prefill, tokens and (with top_n_tokens) top_tokens of one sequence. */
function sequenceDetails(
  engine: LlamaCppEngine,
  parsed: ParsedTgiRequest,
  sequence: Sequence,
): Record<string, unknown> {
  return {
    seed: sequence.done?.seed ?? null,
    prefill:
      parsed.decoderInputDetails && sequence.start !== undefined
        ? prefillTokens(engine, sequence.start.promptTokenIds, sequence.done?.promptLogprobs)
        : [],
    tokens: sequence.tokens,
    ...(parsed.topNTokens > 0 ? { top_tokens: sequence.topTokens } : {}),
  };
}

/**
 * The end-of-generation token's event carries the text still held back when it came (bytes of an
 * incomplete character, a possible stop-sequence prefix). TGI clients that skip special tokens
 * (LangChain's, text-generation's examples) would drop it: it goes to the token before instead.
 */
function moveTextOffSpecial(previous: TgiToken, token: TgiToken): void {
  if (!token.special || token.text === "" || previous.special) return;
  previous.text += token.text;
  token.text = "";
}

/** TGI's top_tokens entry for one generated token (the model's raw distribution, most likely first). */
function topTokens(event: Extract<EngineEvent, { type: "token" }>): TgiToken[] {
  return (event.top ?? []).map((top) => ({ id: top.id, text: top.text, logprob: top.logprob, special: top.special }));
}

/** One entry per prompt token; the first has no logprob (nothing precedes it). */
function prefillTokens(
  engine: LlamaCppEngine,
  ids: readonly number[],
  logprobs: ReadonlyArray<number | null> | undefined,
): Array<Record<string, unknown>> {
  return ids.map((id, index) => ({ id, text: engine.detokenize([id], true), logprob: logprobs?.[index] ?? null }));
}

/**
 * TGI's SSE stream: one `data:{...}` event per generated token with `generated_text` and
 * `details` null, the last token's event carrying both. Errors after the stream has started are
 * an event `data:{"error": ..., "error_type": ...}`.
 */
export async function streamTgi(
  engine: LlamaCppEngine,
  parsed: ParsedTgiRequest,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<void> {
  if (parsed.bestOf > 1) {
    throw new AppError(
      "validation_error",
      "Input validation error: `best_of` != 1 is not supported when streaming tokens",
    );
  }
  if (parsed.decoderInputDetails) {
    throw new AppError(
      "validation_error",
      "Input validation error: `decoder_input_details` == true is not supported when streaming tokens",
    );
  }
  checkTruncate(engine, parsed);
  const signal = clientDisconnectSignal(request, reply);
  const run = engine.run({
    ...parsed.engineRequest,
    // The stream's details carry no prefill.
    parameters: { ...parsed.engineRequest.parameters, logprobs: true, promptLogprobs: false },
    signal,
  });
  const first = await run.next();
  const sse = startSse(reply, "data:");
  let index = 0;
  let held: TgiToken | undefined;
  let heldTop: TgiToken[] = [];
  const tokenEvent = (token: TgiToken, final: Record<string, unknown> | undefined): string =>
    JSON.stringify({
      index,
      token,
      ...(parsed.topNTokens > 0 ? { top_tokens: heldTop } : {}),
      generated_text: final === undefined ? null : final.generatedText,
      details: final === undefined ? null : (final.details ?? null),
    });
  try {
    let next = first;
    while (next.done !== true) {
      const event = next.value;
      if (event.type === "token") {
        const token = { id: event.id, text: event.text, logprob: event.logprob, special: event.special };
        if (held !== undefined) {
          moveTextOffSpecial(held, token);
          // Every token but the last: serialized field by field (sse-chunks.ts), unless it has top tokens.
          const full = sse.send(parsed.topNTokens > 0 ? tokenEvent(held, undefined) : tgiTokenEvent(index, held));
          if (full !== undefined) await full;
          index += 1;
        }
        held = token;
        heldTop = topTokens(event);
      } else if (event.type === "done") {
        // The last event and the end leave in one write.
        sse.batch();
        const details = parsed.details
          ? {
              finish_reason: TGI_FINISH_REASON[event.finishReason],
              generated_tokens: event.completionTokens,
              input_length: event.promptTokens,
              seed: event.seed ?? null,
            }
          : null;
        const last = held ?? { id: 0, text: "", logprob: null, special: true };
        if (held === undefined) heldTop = [];
        await sse.send(tokenEvent(last, { generatedText: generatedText(parsed, event), details }));
        held = undefined;
      }
      next = await run.next();
    }
  } catch (error) {
    const appError = toAppError(error);
    if (appError.code !== "aborted") request.log.warn({ err: error }, "generation failed mid-stream");
    markStreamFailed(reply, HTTP_STATUS[appError.code]);
    await sse.send(JSON.stringify(errorBody(appError, false)));
  } finally {
    await run.return(undefined);
    sse.end();
  }
}
