/**
 * The in-process llama.cpp engine: loads one model (node-llama-cpp for the vocabulary, the native
 * loop or node-llama-cpp for decoding, with continuous batching over N sequences) and wraps it in
 * the request machinery of ./build-engine.ts.
 */
import os from "node:os";
import type { LlamaModel } from "node-llama-cpp";
import { AppError } from "../../errors/index.js";
import { buildEngine } from "./build-engine.js";
import type { DecodeBackend, EngineBackendName } from "./decode-port.js";
import type { LlamaCppEngine, LlamaCppEngineOptions } from "./engine-types.js";
import { isLoraAdapterFile, readCheckedLoraFiles } from "./lora-files.js";
import { batchedLoraObstacle, chooseLoraMode, type LoraFileFacts, type LoraModeDecision } from "./lora-mode.js";
import { nativeAddonBuilt } from "./native/addon.js";
import { createNativeBackend } from "./native/backend.js";
import { createNodeLlamaCppBackend } from "./node-llama-cpp-backend.js";
import { defaultThreads, defaultThreadsBatch, describeRuntime } from "./runtime.js";
import { acquireLlama } from "./shared-llama.js";

export type {
  ChoiceGroup,
  EngineEvent,
  EngineObserver,
  EngineRequest,
  EngineStats,
  LlamaCppEngine,
  LlamaCppEngineOptions,
  LoraAdapter,
} from "./engine-types.js";

/** The start-up log line: which backend runs and, when node-llama-cpp was not asked for, why. */
export function describeEngineForLog(engine: EngineBackendName, requested: EngineBackendName | undefined): string {
  if (engine === "native") return "engine: native generation loop (decode + sampling on one thread)";
  if (requested === "node-llama-cpp") return "engine: node-llama-cpp";
  return "engine: node-llama-cpp, because the native addon is not built (npm run build:native builds it; docs/llm-service.md)";
}

/** "native" when the addon is built (npm run build:native), else node-llama-cpp. */
export function defaultBackend(): EngineBackendName {
  return nativeAddonBuilt() ? "native" : "node-llama-cpp";
}

/**
 * The contexts-mode default: 2 with LoRA adapters (two adapter sets decode at once, each at full
 * batch), else 1. Batched mode always uses 1 (it serves every adapter in one context).
 */
export function defaultLoraContexts(adapters: number): number {
  return adapters > 0 ? 2 : 1;
}

export async function createLlamaCppEngine(options: LlamaCppEngineOptions): Promise<LlamaCppEngine> {
  const parallel = options.parallel ?? 4;
  // Threads are always set explicitly: node-llama-cpp's own default was ~400× slower on 2 cores.
  // The runtime is shared (and may be loading already: serve and serve-llm start it first thing).
  const shared = await acquireLlama({ maxThreads: Math.max(options.threads ?? 1, os.availableParallelism()) });
  const llama = shared.llama;
  const runtime = describeRuntime(llama);
  const threads = options.threads ?? defaultThreads(runtime);
  const backendName = options.backend ?? defaultBackend();
  // node-llama-cpp sets one thread count for every decode; only the native loop splits them.
  const threadsBatch =
    backendName === "native" ? (options.threadsBatch ?? defaultThreadsBatch(options.threads)) : threads;
  let model: LlamaModel | undefined;
  let backend: DecodeBackend | undefined;
  try {
    model = await llama.loadModel({
      modelPath: options.modelPath,
      gpuLayers: 0,
      // The native loop loads the weights itself; node-llama-cpp only tokenizes and detokenizes.
      ...(backendName === "native" ? { vocabOnly: true } : {}),
      // With the native engine the weights load in the addon, which reports the progress.
      ...(options.onLoadProgress === undefined || backendName === "native"
        ? {}
        : { onLoadProgress: options.onLoadProgress }),
      ...(options.signal === undefined ? {} : { loadSignal: options.signal }),
    });
    // A vocabulary-only model reports a train context of 0; the file's metadata has it.
    const trainContextSize =
      model.trainContextSize > 0
        ? model.trainContextSize
        : (model.fileInsights.trainContextSize ?? Number.POSITIVE_INFINITY);
    const maxTotalTokens =
      options.maxTotalTokens ?? Math.min(2048, trainContextSize, options.contextSize ?? Number.POSITIVE_INFINITY);
    const contextSize = options.contextSize ?? maxTotalTokens;
    if (maxTotalTokens > contextSize) {
      throw new AppError(
        "configuration_error",
        `max total tokens (${maxTotalTokens}) cannot exceed the context size per sequence (${contextSize})`,
      );
    }
    const batchSize = options.batchSize ?? 512;
    if ((options.loras?.length ?? 0) > 0 && backendName !== "native") {
      throw new AppError(
        "configuration_error",
        "LoRA adapters (--lora) need the native engine: build it with npm run build:native and use --engine native",
      );
    }
    let loraMode: LoraModeDecision | undefined;
    let loraContexts = options.loraContexts ?? defaultLoraContexts(options.loras?.length ?? 0);
    if ((options.loras?.length ?? 0) > 0) {
      const architecture = (model.fileInfo.metadata as { general?: { architecture?: unknown } }).general?.architecture;
      const loras = options.loras ?? [];
      const baseTensors = model.fileInfo.tensorInfo;
      // Each adapter's GGUF header is read once: checked, then asked whether it applies per token.
      const facts = await readCheckedLoraFiles(
        loras,
        typeof architecture === "string" ? architecture : undefined,
        baseTensors,
      );
      const obstacles = loras.map((adapter, index) => ({
        adapter,
        obstacle: batchedLoraObstacle(facts[index] as LoraFileFacts, baseTensors),
      }));
      loraMode = chooseLoraMode(options.loraMode ?? "auto", obstacles);
      // Batched mode serves every adapter in one context; contexts mode keeps loraContexts as set above.
      if (loraMode.mode === "batched") {
        if (options.loraContexts !== undefined) loraMode.ignoredLoraContexts = options.loraContexts;
        loraContexts = 1;
      }
      options.onLoraMode?.(loraMode, loraContexts);
    }
    const settings = {
      contextSize,
      parallel,
      threads,
      batchSize,
      flashAttention: options.flashAttention ?? "auto",
    } as const;
    backend =
      backendName === "native"
        ? await createNativeBackend(llama, model, {
            ...settings,
            modelPath: options.modelPath,
            threadsBatch,
            ...(options.onLoadProgress === undefined ? {} : { onLoadProgress: options.onLoadProgress }),
            ...(options.signal === undefined ? {} : { signal: options.signal }),
            ...(options.loras === undefined ? {} : { loras: options.loras }),
            loraContexts,
            ...(loraMode === undefined ? {} : { loraMode: loraMode.mode }),
            ...(options.watermark === undefined ? {} : { watermark: options.watermark }),
          })
        : await createNodeLlamaCppBackend(llama, model, settings);
    return buildEngine({
      releaseLlama: shared.release,
      model,
      backend,
      options,
      runtime,
      threads,
      threadsBatch,
      parallel,
      batchSize,
      maxTotalTokens,
    });
  } catch (error) {
    await backend?.dispose();
    await model?.dispose();
    await shared.release();
    if (error instanceof AppError) throw error;
    if (await isLoraAdapterFile(options.modelPath)) {
      throw new AppError(
        "configuration_error",
        `${options.modelPath} is a LoRA adapter, not a model: serve its base model with --model and give this file to --lora <name>=${options.modelPath}`,
        { cause: error },
      );
    }
    throw new AppError("model_not_found", `Could not load the model ${options.modelPath}: ${messageOf(error)}`, {
      cause: error,
    });
  }
}

export { DEFAULT_MAX_CHOICES } from "./build-engine.js";

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
