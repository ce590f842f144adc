/**
 * Runs the LLM service: listens first (so /health answers 503 while the model loads), resolves
 * and loads the model with progress, and shuts down gracefully: stop admitting (503), let
 * in-flight requests finish within the grace period, dispose the model, close.
 */
import type { FastifyInstance } from "fastify";
import pino from "pino";
import { AppError } from "../errors/index.js";
import {
  createLlamaCppEngine,
  describeEngineForLog,
  describeForLog,
  describeLoraModeForLog,
  type LlamaCppEngine,
  unusedLoraOptionsWarning,
} from "../llm/llama-cpp/index.js";
import { createDownloadProgressReporter, resolveModelFile } from "../model-source/index.js";
import { loadServedModel, planServedModel, type ServedModelPlan } from "../models-registry/serving.js";
import { edgeLoggerOptions, errorLogFields, listenOrExplain } from "../observability/http/index.js";
import { acquire, type ResourceStack } from "../runtime/index.js";
import { definedOnly } from "../util/index.js";
import { buildLlmServerApp } from "./app.js";
import type { LlmServerConfig } from "./config.js";
import { createEmbeddingHolder, type EmbeddingHolder } from "./embedding-holder.js";
import { loadEmbeddingModel } from "./embedding-model.js";
import { createLlmServerMetrics } from "./metrics.js";
import { createModelHolder, type ModelHolder, type ServedVersions } from "./model-holder.js";
import { createModelReloader, type ModelReloader } from "./reload.js";
import { DEFAULT_TGI_BUCKET_LIMITS } from "./tgi-metrics.js";

export type RunningLlmServer = {
  app: FastifyInstance;
  holder: ModelHolder;
  /** The embedding model (--embedding-model), loaded beside the generation model. */
  embeddings: EmbeddingHolder;
  /** Resolves when the embedding model serves (at once without one); rejects when it could not be loaded. */
  embeddingsReady: Promise<void>;
  /** http://host:port actually bound (port 0 picks a free one). */
  url: string;
  /** Resolves when the model serves; rejects when it could not be loaded. */
  ready: Promise<LlamaCppEngine>;
  /** What the server holds (HTTP server, model load, model), released by `shutdown`. */
  resources: ResourceStack;
  /** Graceful shutdown; resolves once everything is closed. */
  shutdown(reason?: string): Promise<void>;
};

export type StartLlmServerOptions = {
  /** Where progress bars go (stderr by default). */
  progressStream?: NodeJS.WritableStream & { isTTY?: boolean };
};

export async function startLlmServer(
  config: LlmServerConfig,
  options: StartLlmServerOptions = {},
): Promise<RunningLlmServer> {
  const logger = pino(edgeLoggerOptions(config.logLevel, "llm-twin-serve-llm"));
  const holder = createModelHolder();
  const metrics = createLlmServerMetrics(holder, {
    tgiBucketLimits: {
      maxInputTokens: config.maxInputTokens ?? DEFAULT_TGI_BUCKET_LIMITS.maxInputTokens,
      maxTotalTokens: config.maxTotalTokens ?? DEFAULT_TGI_BUCKET_LIMITS.maxTotalTokens,
    },
  });
  // The embedding model (--embedding-model) is loaded beside the generation model and is not
  // touched by POST /admin/reload, which swaps only the generation model.
  const embeddings = createEmbeddingHolder(config.embeddingModel !== undefined);
  // Set once the loading functions exist (below); the route only runs after listening.
  let reloader: ModelReloader | undefined;
  const loadController = new AbortController();
  // Everything built is owned by one stack (src/runtime): released newest first — the model, the
  // model load, then the HTTP server — also when start-up fails half-way.
  const { value: app, stack } = await acquire(async (resources) => {
    const app = resources.use(
      "HTTP server",
      buildLlmServerApp({
        holder,
        embeddings,
        reload: () => {
          if (reloader === undefined) throw new AppError("model_loading", "The model is loading", { retryable: true });
          return reloader.reload();
        },
        metrics,
        bodyLimitBytes: config.bodyLimitBytes,
        logger,
        apiKeys: config.apiKeys,
        authFailureLimit: { max: config.authFailureLimit, windowMs: config.authFailureWindowMs },
        timeouts: {
          headersTimeoutMs: config.headersTimeoutMs,
          receiveTimeoutMs: config.receiveTimeoutMs,
          keepAliveTimeoutMs: config.keepAliveTimeoutMs,
        },
      }),
    );
    // Listening comes before the model loads (so /health answers 503 meanwhile): a port in use is
    // reported before any loading starts.
    await listenOrExplain(app, config.host, config.port);
    resources.defer("model load", () => loadController.abort());
    return app;
  });
  const address = app.server.address();
  const port = typeof address === "object" && address !== null ? address.port : config.port;
  const url = `http://${config.host.includes(":") ? `[${config.host}]` : config.host}:${port}`;
  logger.info({ url, model: config.model }, "listening; loading the model");

  // The embedding model loads alongside the generation model; once loaded it is owned by the
  // stack (released before the HTTP server), or released at once when shutdown came first.
  const embeddingsReady = (async () => {
    if (config.embeddingModel === undefined) return;
    const model = await loadEmbeddingModel(config, { signal: loadController.signal, logger });
    if (holder.state === "stopping" || stack.disposed) {
      await model.embedder[Symbol.asyncDispose]();
      throw new Error("shut down while loading");
    }
    stack.use("embedding model", model.embedder);
    embeddings.setReady(model);
  })();
  embeddingsReady.catch((error: unknown) => {
    embeddings.setFailed(error);
    if (!loadController.signal.aborted) logger.error(errorLogFields(error), "the embedding model could not be loaded");
  });

  const reporterOptions = options.progressStream === undefined ? {} : { stream: options.progressStream as never };
  const resolveFile = (source: string) =>
    resolveModelFile(source, {
      ...(config.cacheDir === undefined ? {} : { cacheDir: config.cacheDir }),
      ...(config.registry === undefined ? {} : { registry: config.registry }),
      onProgress: createDownloadProgressReporter(reporterOptions),
      signal: loadController.signal,
    });
  const plan = () =>
    planServedModel({
      model: config.model,
      loras: config.loras,
      ...(config.registry === undefined ? {} : { registry: config.registry }),
      ...(config.cacheDir === undefined ? {} : { cacheDir: config.cacheDir }),
      productionAdapters: config.registryAdapters === "production",
    });
  const load = async (planned: ServedModelPlan, onLoadProgress?: (fraction: number) => void) => {
    const served = await loadServedModel(planned, resolveFile);
    const unusedLora = unusedLoraOptionsWarning({
      adapters: served.adapters.length,
      loraMode: config.loraMode,
      loraContexts: config.loraContexts,
    });
    if (unusedLora !== undefined) logger.warn(unusedLora);
    const engine = await createLlamaCppEngine({
      modelPath: served.modelPath,
      parallel: config.parallel,
      batchSize: config.batchSize,
      flashAttention: config.flashAttention === "auto" ? "auto" : config.flashAttention === "on",
      promptCache: config.promptCache === "on",
      maxChoices: config.maxN,
      nativeStreaming: config.nativeStreaming === "on",
      nativeStreamBuffer: config.nativeStreamBuffer,
      watermark: { gamma: config.watermarkGamma, delta: config.watermarkDelta },
      loras: served.adapters.map(({ name, path, scale }) => ({ name, path, scale })),
      requestTimeoutMs: config.requestTimeoutSeconds * 1000,
      observer: metrics.observer,
      ...(onLoadProgress === undefined ? {} : { onLoadProgress }),
      onLoraMode: (decision, contexts) => logger.info(describeLoraModeForLog(decision, contexts)),
      signal: loadController.signal,
      ...definedOnly({
        threads: config.threads,
        threadsBatch: config.threadsBatch,
        loraContexts: config.loraContexts,
        loraMode: config.loraMode,
        backend: config.engine,
        modelId: config.modelId ?? served.registry?.name,
        contextSize: config.contextSize,
        maxConcurrentRequests: config.maxConcurrentRequests,
        maxQueue: config.maxQueue,
        maxInputTokens: config.maxInputTokens,
        maxTotalTokens: config.maxTotalTokens,
        maxNewTokens: config.maxNewTokens,
      }),
    });
    const versions: ServedVersions = {
      model: served.registry,
      adapters: served.adapters.map(({ name, registry, author }) => ({ name, registry, author })),
    };
    return { engine, served: versions };
  };
  reloader = createModelReloader({
    holder,
    plan,
    load: (planned) => load(planned),
    log: (level, data, message) => logger[level](data, message),
  });
  const ready = (async () => {
    const { engine, served } = await load(await plan(), (fraction) => holder.setProgress(fraction));
    if (holder.state === "stopping" || stack.disposed) {
      await engine.dispose();
      throw new Error("shut down while loading");
    }
    // The model serving at release time (a reload may have replaced this one), and the replaced
    // engines still finishing requests.
    stack.defer("model", async () => {
      await reloader?.disposeReplaced();
      await holder.engine?.dispose();
    });
    holder.setReady(engine, served);
    logger.info({ modelId: engine.modelId, ...engine.info, limits: engine.limits, registry: served }, "model ready");
    logger.info(describeForLog(engine.info.runtime));
    logger.info(describeEngineForLog(engine.info.engine, config.engine));
    return engine;
  })();
  ready.catch((error: unknown) => {
    if (holder.state !== "stopping") {
      holder.setFailed(error);
      // A user's mistake (missing file, wrong format, unknown registry reference...) is its code and message; only the unexpected keeps a stack.
      logger.error(errorLogFields(error), "the model could not be loaded");
    }
  });

  let shuttingDown: Promise<void> | undefined;
  async function shutdown(reason = "shutdown"): Promise<void> {
    shuttingDown ??= (async () => {
      logger.info({ reason, gracePeriodSeconds: config.gracePeriodSeconds }, "shutting down: no new requests");
      holder.setStopping();
      loadController.abort();
      const engine = holder.engine;
      if (engine !== undefined) {
        engine.stopAdmitting();
        const graceMs = config.gracePeriodSeconds * 1000;
        let timer: NodeJS.Timeout | undefined;
        const finished = await Promise.race([
          Promise.all([engine.idle(), reloader?.drain()]).then(() => true),
          new Promise<boolean>((resolve) => {
            timer = setTimeout(() => resolve(false), graceMs);
          }),
        ]);
        clearTimeout(timer);
        if (!finished) logger.warn("grace period over: cancelling the remaining requests");
      }
      // The models (and engines replaced by a reload that still finish requests), then the HTTP server.
      await stack.disposeAsync();
      logger.info("stopped");
    })();
    return shuttingDown;
  }

  return { app, holder, embeddings, embeddingsReady, url, ready, resources: stack, shutdown };
}
