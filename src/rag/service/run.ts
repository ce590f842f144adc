/**
 * Starts the RAG service from ready-made adapters: checks the store's fingerprint, opens the trace
 * log (and the OTLP exporter when configured), builds the app and listens. Shared by `serve-rag`
 * and `serve`; the composition roots only build the adapters.
 */
import type { AddressInfo } from "node:net";
import type { FastifyInstance } from "fastify";
import type { Embedder } from "../../embedding/index.js";
import type { LanguageModel } from "../../llm/index.js";
import { edgeLoggerOptions, listenOrExplain } from "../../observability/http/index.js";
import { createTracer, openTraceLog, type TraceSink } from "../../observability/tracing/index.js";
import { handleServerStop } from "../../runtime/index.js";
import type { VectorStore } from "../../vector-store/index.js";
import type { AdapterRouter } from "../adapter-routing.js";
import { createAuthorsCache } from "../authors-cache.js";
import { type AnswerCachePolicy, createAnswerCacheMetrics, openAnswerCache } from "../cache/index.js";
import { openFeedbackStore } from "../feedback/store.js";
import { buildRagApp } from "../http/app.js";
import { createRagMetrics } from "../http/rag-metrics.js";
import { createReadinessCheck } from "../readiness.js";
import type { Reranker } from "../rerank/port.js";
import type { PromptLimit } from "../retrieve.js";
import { checkStoreFingerprint } from "../startup.js";
import type { TokenCounter } from "../steps/context.js";
import { createServiceOnlineEvaluator } from "./online-eval.js";
import { httpConfigFromSettings, type RagServiceSettings, ragConfigFromSettings } from "./settings.js";

export type RunRagServiceInput = {
  settings: RagServiceSettings;
  store: VectorStore;
  embedder: Embedder;
  llm: LanguageModel;
  reranker?: Reranker;
  countTokens?: TokenCounter;
  promptLimit?: PromptLimit;
  /** Disposes the adapters when the service closes. */
  disposeResources: () => Promise<void>;
  serviceName?: string;
  /** True when the offline demo model answers (GET /info and the chat page say so). */
  demoModel?: boolean;
  /** What --max-generations auto means here: the in-process engine's own limit (serve). */
  autoMaxGenerations?: number;
  /** Routes each request to its author's LoRA adapter (disposed with the service). */
  adapters?: AdapterRouter;
  /** POST /admin/reload (serve with a registry model): re-resolves the registry references. */
  reload?: () => Promise<unknown>;
};

export type RunningRagService = { app: FastifyInstance; url: string; close(): Promise<void> };

const AUTHORS_CACHE_TTL_MS = 30_000;

export async function runRagService(input: RunRagServiceInput): Promise<RunningRagService> {
  try {
    return await startService(input);
  } catch (error) {
    input.adapters?.dispose?.();
    await input.disposeResources().catch(() => {});
    throw error;
  }
}

async function startService(input: RunRagServiceInput): Promise<RunningRagService> {
  const { settings, store, embedder, llm } = input;
  const fingerprint = await checkStoreFingerprint(store, embedder);
  const config = ragConfigFromSettings(settings);
  const traceLog = await openTraceLog({
    capacity: settings.traceCapacity,
    ...(settings.traceFile === undefined ? {} : { file: settings.traceFile }),
    maxFileBytes: settings.traceFileMaxBytes,
  });
  const sinks: TraceSink[] = [traceLog];
  const otlp =
    settings.otlpEndpoint === undefined
      ? undefined
      : // Loaded only when configured: the OpenTelemetry SDK is ~480 modules.
        (await import("../../observability/tracing/otlp-sink.js")).createOtlpSink({
          endpoint: settings.otlpEndpoint,
          serviceName: input.serviceName ?? "llm-twin-rag",
        });
  if (otlp !== undefined) sinks.push(otlp);
  const feedback =
    settings.feedbackStore === undefined
      ? await openFeedbackStore({ file: settings.feedbackFile, capacity: settings.feedbackCapacity })
      : await (await import("../feedback/redis-store.js")).openRedisFeedbackStore({
          url: settings.feedbackStore,
          capacity: settings.feedbackCapacity,
          connectTimeoutMs: settings.feedbackStoreTimeoutMs,
        });
  const metrics = createRagMetrics();
  const onlineEvaluator = await createServiceOnlineEvaluator(settings, metrics.http.registry);
  if (onlineEvaluator !== undefined) sinks.push(onlineEvaluator);
  // Lines about the cache's Redis go to the service's log once the app (and its logger) exists.
  let logCache: (message: string) => void = (message) => process.stderr.write(`${message}\n`);
  const answerCache = await openAnswerCache({
    cache: settings.cache,
    maxEntries: settings.cacheMaxEntries,
    ttlSeconds: settings.cacheTtlSeconds,
    timeoutMs: settings.cacheTimeoutMs,
    log: (message) => logCache(message),
  });
  const cachePolicy: AnswerCachePolicy | undefined =
    answerCache === undefined
      ? undefined
      : {
          cache: answerCache,
          minSimilarity: settings.cacheSimilarity,
          maxTemperature: settings.cacheMaxTemperature,
          metrics: createAnswerCacheMetrics(metrics.http.registry, answerCache),
        };
  const app = await buildRagApp({
    deps: {
      store,
      embedder,
      llm,
      ...(input.reranker === undefined ? {} : { reranker: input.reranker }),
      config,
      listAuthors: createAuthorsCache(store, AUTHORS_CACHE_TTL_MS),
      ...(input.countTokens === undefined ? {} : { countTokens: input.countTokens }),
      ...(input.promptLimit === undefined ? {} : { promptLimit: input.promptLimit }),
      ...(input.adapters === undefined ? {} : { adapters: input.adapters }),
      ...(cachePolicy === undefined ? {} : { answerCache: cachePolicy }),
    },
    http: httpConfigFromSettings(settings, input.autoMaxGenerations),
    tracer: createTracer(sinks, { promptCapture: settings.tracePrompts }),
    feedback: {
      store: feedback,
      commentMaxChars: settings.feedbackCommentMaxChars,
      ...(otlp === undefined
        ? {}
        : {
            onFeedback: (entry) =>
              otlp.recordEvent(entry.traceId, entry.trace.rootSpanId, "feedback", {
                "feedback.rating": entry.rating,
                "feedback.comment": entry.comment ?? null,
                "feedback.created_at": entry.createdAt,
              }),
          }),
    },
    metrics,
    traceLog,
    readiness: createReadinessCheck({
      store,
      llm,
      expectedFingerprintHash: fingerprint.hash,
      timeoutMs: settings.readyTimeoutMs,
    }),
    model: { id: llm.id, demo: input.demoModel === true },
    logger: edgeLoggerOptions(settings.logLevel),
    ...(input.reload === undefined ? {} : { reload: input.reload }),
    onClose: async () => {
      input.adapters?.dispose?.();
      await answerCache?.[Symbol.asyncDispose]();
      await input.disposeResources();
    },
  });
  logCache = (message) => app.log.warn(message);
  try {
    await listenOrExplain(app, settings.host, settings.port);
  } catch (error) {
    await app.close().catch(() => {});
    throw error;
  }
  const address = app.server.address() as AddressInfo;
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  return { app, url: `http://${host}:${address.port}`, close: () => app.close() };
}

/**
 * Closes the service on SIGINT/SIGTERM (in-flight requests finish first, then the resources are
 * released), then exits; a second signal exits at once (src/runtime/shutdown-signals.ts). An error
 * nothing handled (unhandled rejection, uncaught exception) is one line, then the same close, then
 * exit 1, bounded by the LLM timeout plus a margin (src/runtime/fatal-errors.ts).
 */
export function closeOnSignals(
  service: RunningRagService,
  log: (message: string) => void,
  options: { llmTimeoutMs: number },
): void {
  // In-flight requests end within the LLM timeout: the bound of the graceful close after a fatal error.
  handleServerStop({ name: "llm-twin", shutdown: () => service.close(), gracefulMs: options.llmTimeoutMs, log });
}

/** Exact token counting and input limit of an in-process llama.cpp model (src/rag/in-process-limit.ts). */
export { inProcessPromptLimit } from "../in-process-limit.js";
