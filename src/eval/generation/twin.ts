/**
 * The twin under evaluation, as a port: one question in, the answer with its sources, trace id and
 * step timings out. Two adapters: the RAG code in this process (`answerStream`, exactly what the
 * service runs, with a tracer of its own), or a running RAG service over HTTP (`POST /rag`, the
 * trace id from its `x-trace-id` header). A failed answer is a result with an error, not a throw,
 * except when the first answers fail because a server cannot be reached at all (src/llm/unreachable.ts):
 * then the run stops with one line.
 */
import { performance } from "node:perf_hooks";
import { AppError } from "../../errors/index.js";
import { postJson } from "../../llm/openai-chat.js";
import { createUnreachableGuard, isUnreachableError } from "../../llm/unreachable.js";
import type { Tracer } from "../../observability/tracing/index.js";
import { answerStream, type RagDependencies, type RagSource, type RagTimings } from "../../rag/index.js";
import type { GenerationQuestion } from "./questions.js";

export type TwinAnswer = {
  answer: string;
  sources: RagSource[];
  traceId: string | null;
  /**
   * The author whose voice the answer should have: the question's, else the one the self-query
   * step found, else the author of the best source (the twin writes as the author of its context).
   */
  author: string | null;
  timings: Partial<RagTimings> & { totalMs: number };
  error?: { code: string; message: string };
};

export type Twin = {
  readonly description: string;
  answer(question: GenerationQuestion, signal?: AbortSignal): Promise<TwinAnswer>;
};

function describe(error: unknown): { code: string; message: string } {
  if (error instanceof AppError) return { code: error.code, message: error.message };
  return { code: "internal_error", message: error instanceof Error ? error.message : String(error) };
}

/**
 * The RAG pipeline of this process; traces go to `tracer` (the eval's trace log). With
 * `unreachableHint` (a remote LLM or embedder: what to fix), an `upstream_unavailable` failure
 * before any answer succeeded stops the run instead of failing every question.
 */
export function createInProcessTwin(
  deps: RagDependencies,
  tracer: Tracer,
  description: string,
  unreachableHint?: string,
): Twin {
  let answered = false;
  const stopIfUnreachable = (code: string, message: string) => {
    if (answered || unreachableHint === undefined || code !== "upstream_unavailable") return;
    throw new AppError("upstream_unavailable", `the first answer failed: ${message}; ${unreachableHint}`, {
      retryable: false,
      details: { unreachable: true },
    });
  };
  return {
    description,
    async answer(question, signal) {
      const started = performance.now();
      const trace = tracer.startTrace("rag", { query: question.question, evaluation: true });
      let sources: RagSource[] = [];
      let author: string | null = question.author ?? null;
      let answer = "";
      try {
        for await (const part of answerStream(
          { query: question.question, ...(question.author === undefined ? {} : { author: question.author }) },
          deps,
          { trace, ...(signal === undefined ? {} : { signal }) },
        )) {
          if (part.type === "sources") {
            sources = part.sources;
            author = part.author?.fullName ?? author ?? part.sources[0]?.author.fullName ?? null;
          } else if (part.type === "token") answer += part.text;
          else if (part.type === "error") {
            trace.end(new AppError(part.code, part.message));
            stopIfUnreachable(part.code, part.message);
            return {
              answer,
              sources,
              traceId: trace.id,
              author,
              timings: { totalMs: performance.now() - started },
              // The code and message only: the report is JSON (the failure's log context stays out).
              error: { code: part.code, message: part.message },
            };
          } else if (part.type === "done") {
            trace.end();
            answered = true;
            return { answer: part.answer, sources, traceId: trace.id, author, timings: part.timings };
          }
        }
        throw new AppError("internal_error", "the answer stream ended without a result");
      } catch (error) {
        if (isUnreachableError(error)) throw error;
        trace.end(error);
        if (error instanceof AppError) stopIfUnreachable(error.code, error.message);
        return {
          answer,
          sources,
          traceId: trace.id,
          author,
          timings: { totalMs: performance.now() - started },
          error: describe(error),
        };
      }
    },
  };
}

export type HttpTwinOptions = { url: string; apiKey?: string; timeoutMs: number };

/** A running RAG service (`serve`, `serve-rag`): POST /rag, not streamed. */
export function createHttpTwin(options: HttpTwinOptions): Twin {
  const endpoint = `${options.url.replace(/\/+$/, "")}/rag`;
  // Until one answer has come back, a service that cannot be reached stops the run.
  const guard = createUnreachableGuard({
    service: "the RAG service",
    url: endpoint,
    urlSetting: "--rag-url (LLM_TWIN_EVAL_GENERATION_RAG_URL)",
    keySetting: "--rag-api-key (LLM_TWIN_RAG_API_KEY)",
    start: "llm-twin serve or serve-rag",
  });
  return {
    description: `RAG service at ${options.url}`,
    async answer(question, signal) {
      const started = performance.now();
      const elapsed = () => ({ totalMs: performance.now() - started });
      const sent = await postJson(endpoint, {
        apiKey: options.apiKey,
        body: {
          query: question.question,
          ...(question.author === undefined ? {} : { author: question.author }),
        },
        timeoutMs: options.timeoutMs,
        signal,
      });
      if (!sent.ok) {
        guard.failed(sent);
        const message = sent.timedOut
          ? `the RAG service did not answer within ${options.timeoutMs} ms`
          : `cannot reach the RAG service at ${endpoint}: ${(sent.error as Error).message}`;
        return emptyAnswer(question, elapsed(), {
          code: sent.timedOut ? "timeout" : "upstream_unavailable",
          message,
        });
      }
      const { response } = sent;
      guard.answered(response);
      const traceId = response.headers.get("x-trace-id");
      const body = (await response.json().catch(() => undefined)) as
        | { answer?: string; sources?: RagSource[]; timings?: RagTimings; error?: { code?: string; message?: string } }
        | undefined;
      if (!response.ok || body === undefined || typeof body.answer !== "string") {
        const code = body?.error?.code ?? (response.ok ? "upstream_error" : `http_${response.status}`);
        const message = body?.error?.message ?? `the RAG service answered HTTP ${response.status} without an answer`;
        return { ...emptyAnswer(question, elapsed(), { code, message }), traceId };
      }
      const sources = Array.isArray(body.sources) ? body.sources : [];
      return {
        answer: body.answer,
        sources,
        traceId,
        author: question.author ?? sources[0]?.author?.fullName ?? null,
        timings: { ...(body.timings ?? {}), totalMs: body.timings?.totalMs ?? elapsed().totalMs },
      };
    },
  };
}

function emptyAnswer(
  question: GenerationQuestion,
  timings: { totalMs: number },
  error: { code: string; message: string },
): TwinAnswer {
  return { answer: "", sources: [], traceId: null, author: question.author ?? null, timings, error };
}
