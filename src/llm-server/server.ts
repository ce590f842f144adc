/**
 * Runs the LLM service: listens first (so /health answers 503 while the model loads), resolves
 * and loads the model with progress, and shuts down gracefully: stop admitting (503), let
 * in-flight requests finish within the grace period, dispose the model, close.
 */
import type { FastifyInstance } from "fastify";
import pino from "pino";
import {
  createLlamaCppEngine,
  describeEngineForLog,
  describeForLog,
  type LlamaCppEngine,
} from "../llm/llama-cpp/index.js";
import { createDownloadProgressReporter, resolveModelFile } from "../model-source/index.js";
import { edgeLoggerOptions, listenOrExplain } from "../observability/http/index.js";
import { buildLlmServerApp } from "./app.js";
import type { LlmServerConfig } from "./config.js";
import { createLlmServerMetrics } from "./metrics.js";
import { createModelHolder, type ModelHolder } from "./model-holder.js";

export type RunningLlmServer = {
  app: FastifyInstance;
  holder: ModelHolder;
  /** http://host:port actually bound (port 0 picks a free one). */
  url: string;
  /** Resolves when the model serves; rejects when it could not be loaded. */
  ready: Promise<LlamaCppEngine>;
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
  const metrics = createLlmServerMetrics(holder);
  const app = buildLlmServerApp({
    holder,
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
  });
  // Listening comes before the model loads (so /health answers 503 meanwhile): a port in use is
  // reported before any loading starts.
  try {
    await listenOrExplain(app, config.host, config.port);
  } catch (error) {
    await app.close().catch(() => {});
    throw error;
  }
  const address = app.server.address();
  const port = typeof address === "object" && address !== null ? address.port : config.port;
  const url = `http://${config.host.includes(":") ? `[${config.host}]` : config.host}:${port}`;
  logger.info({ url, model: config.model }, "listening; loading the model");

  const loadController = new AbortController();
  const ready = (async () => {
    const reporterOptions = options.progressStream === undefined ? {} : { stream: options.progressStream as never };
    const modelPath = await resolveModelFile(config.model, {
      ...(config.cacheDir === undefined ? {} : { cacheDir: config.cacheDir }),
      onProgress: createDownloadProgressReporter(reporterOptions),
      signal: loadController.signal,
    });
    const engine = await createLlamaCppEngine({
      modelPath,
      parallel: config.parallel,
      batchSize: config.batchSize,
      flashAttention: config.flashAttention === "auto" ? "auto" : config.flashAttention === "on",
      promptCache: config.promptCache === "on",
      loras: config.loras,
      requestTimeoutMs: config.requestTimeoutSeconds * 1000,
      observer: metrics.observer,
      onLoadProgress: (fraction) => holder.setProgress(fraction),
      signal: loadController.signal,
      ...definedOnly({
        threads: config.threads,
        threadsBatch: config.threadsBatch,
        loraContexts: config.loraContexts,
        backend: config.engine,
        modelId: config.modelId,
        contextSize: config.contextSize,
        maxConcurrentRequests: config.maxConcurrentRequests,
        maxQueue: config.maxQueue,
        maxInputTokens: config.maxInputTokens,
        maxTotalTokens: config.maxTotalTokens,
        maxNewTokens: config.maxNewTokens,
      }),
    });
    if (holder.state === "stopping") {
      await engine.dispose();
      throw new Error("shut down while loading");
    }
    holder.setReady(engine);
    logger.info({ modelId: engine.modelId, ...engine.info, limits: engine.limits }, "model ready");
    logger.info(describeForLog(engine.info.runtime));
    logger.info(describeEngineForLog(engine.info.engine, config.engine));
    return engine;
  })();
  ready.catch((error: unknown) => {
    if (holder.state !== "stopping") {
      holder.setFailed(error);
      logger.error({ err: error }, "the model could not be loaded");
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
          engine.idle().then(() => true),
          new Promise<boolean>((resolve) => {
            timer = setTimeout(() => resolve(false), graceMs);
          }),
        ]);
        clearTimeout(timer);
        if (!finished) logger.warn("grace period over: cancelling the remaining requests");
        await engine.dispose();
      }
      await app.close();
      logger.info("stopped");
    })();
    return shuttingDown;
  }

  return { app, holder, url, ready, shutdown };
}

function definedOnly<T extends Record<string, unknown>>(values: T): { [K in keyof T]?: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(values).filter(([, value]) => value !== undefined)) as never;
}
