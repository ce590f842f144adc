/** Builds a RAG app over the in-memory fakes, for HTTP tests. */
import type { FastifyInstance } from "fastify";
import type { LanguageModel } from "../../llm/port.js";
import { createTracer, openTraceLog, type TraceLog } from "../../observability/tracing/index.js";
import { createFingerprint } from "../../preprocessing/index.js";
import { type AnswerCache, createAnswerCacheMetrics } from "../cache/index.js";
import type { RagConfig } from "../config.js";
import { resolveRagConfig } from "../config.js";
import { buildRagApp, DEFAULT_RAG_HTTP_CONFIG, type RagAppOptions, type RagHttpConfig } from "../http/app.js";
import type { FeedbackRoutesOptions } from "../http/feedback-routes.js";
import { createRagMetrics } from "../http/rag-metrics.js";
import { createReadinessCheck } from "../readiness.js";
import type { Reranker } from "../rerank/port.js";
import {
  type FakeLanguageModel,
  type FakeStore,
  fakeEmbedder,
  fakeLanguageModel,
  fakeStore,
  sampleChunks,
} from "./fakes.js";

export type Harness = {
  app: FastifyInstance;
  llm: FakeLanguageModel;
  store: FakeStore;
  traceLog: TraceLog;
};

export async function buildHarness(
  options: {
    config?: Partial<RagConfig>;
    http?: Partial<RagHttpConfig>;
    reranker?: Reranker;
    withoutLlm?: boolean;
    /** A real language model (an HTTP client of a loopback server) instead of the fake. */
    languageModel?: LanguageModel;
    logger?: RagAppOptions["logger"];
    feedback?: FeedbackRoutesOptions;
    /** An answer cache, with the policy's thresholds (defaults: similarity 0.95, max temperature 0.3). */
    answerCache?: { cache: AnswerCache; minSimilarity?: number; maxTemperature?: number };
  } = {},
): Promise<Harness> {
  const embedder = fakeEmbedder();
  const fingerprint = createFingerprint(embedder);
  const now = new Date().toISOString();
  const store = fakeStore(sampleChunks(), embedder, { fingerprint, createdAt: now, updatedAt: now });
  const llm = fakeLanguageModel();
  const served = options.languageModel ?? llm;
  const traceLog = await openTraceLog({ capacity: 50 });
  const config = resolveRagConfig({ expandQueries: 1, ...options.config });
  const metrics = createRagMetrics();
  const cache = options.answerCache;
  const app = await buildRagApp({
    metrics,
    deps: {
      store,
      embedder,
      ...(options.withoutLlm === true ? {} : { llm: served }),
      ...(options.reranker === undefined ? {} : { reranker: options.reranker }),
      config,
      ...(cache === undefined
        ? {}
        : {
            answerCache: {
              cache: cache.cache,
              minSimilarity: cache.minSimilarity ?? 0.95,
              maxTemperature: cache.maxTemperature ?? 0.3,
              metrics: createAnswerCacheMetrics(metrics.http.registry, cache.cache),
            },
          }),
    },
    http: { ...DEFAULT_RAG_HTTP_CONFIG, rateLimit: false, ...options.http },
    tracer: createTracer([traceLog]),
    traceLog,
    ...(options.feedback === undefined ? {} : { feedback: options.feedback }),
    readiness: createReadinessCheck({
      store,
      ...(options.withoutLlm === true ? {} : { llm: served }),
      expectedFingerprintHash: fingerprint.hash,
      timeoutMs: 500,
    }),
    ...(options.logger === undefined ? {} : { logger: options.logger }),
  });
  return { app, llm, store, traceLog };
}

/** Parses an SSE body into its events. */
export function parseSse(body: string): { event: string; data: unknown }[] {
  return body
    .split("\n\n")
    .filter((block) => block.trim() !== "")
    .map((block) => {
      const lines = block.split("\n");
      const event = lines.find((line) => line.startsWith("event: "))?.slice(7) ?? "message";
      const data = lines
        .filter((line) => line.startsWith("data: "))
        .map((line) => line.slice(6))
        .join("\n");
      return { event, data: JSON.parse(data) as unknown };
    });
}
