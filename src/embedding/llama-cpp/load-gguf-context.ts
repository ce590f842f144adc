/**
 * Loading a GGUF model and one node-llama-cpp context on it, as the GGUF embedder and the GGUF
 * reranker both do: resolve the source (path, URL, hf: URI) into the cache, hash it, start (or
 * share) a CPU-only llama.cpp runtime with explicit threads, load the model, create the context.
 * If loading fails, what was already loaded is released and a configuration_error names the file.
 */
import { availableParallelism } from "node:os";
import { basename } from "node:path";
import type { Llama, LlamaModel } from "node-llama-cpp";
import { AppError } from "../../errors/app-error.js";
import { acquireLlama } from "../../llm/llama-cpp/shared-llama.js";
import {
  type DownloadProgress,
  defaultCacheDirectory,
  modelFileSha256,
  resolveModelFile,
} from "../../model-source/index.js";

/** Where the GGUF model comes from and how llama.cpp runs it (shared by the GGUF embedder and reranker). */
export type GgufModelOptions = {
  /** A local path, an http(s) URL, an hf: URI (downloaded once into the cache) or registry:<name>@<version|stage>. */
  source?: string;
  /** A local GGUF path (same as a path `source`). */
  modelPath?: string;
  /** Root cache directory (downloads, hashes). Default LLM_TWIN_CACHE_DIR or ~/.cache/llm-twin. */
  cacheDir?: string;
  /** The model registry of `registry:` sources. Default LLM_TWIN_REGISTRY or `<cacheDir>/registry`. */
  registry?: string;
  /** llama.cpp threads. Default: the cores available. */
  threads?: number;
  /** Share an already-loaded llama.cpp runtime (it is not disposed with the embedder or reranker). */
  llama?: Llama;
  onProgress?: (progress: DownloadProgress) => void;
  signal?: AbortSignal;
};

export type GgufContextOptions = GgufModelOptions & {
  /** Context size in tokens. Default: the model's training context, at most `maxDefaultContext`. */
  contextSize?: number;
  /** llama.cpp batch size in tokens. Default: the context size. */
  batchSize?: number;
};

type ContextSettings = { contextSize: number; batchSize: number; threads: number };

export type LoadedGgufContext<Context extends { dispose(): Promise<void> }> = {
  modelPath: string;
  sha256: string;
  model: LlamaModel;
  context: Context;
  contextSize: number;
  /** Releases the context, the model and the runtime (when it was started here). */
  dispose(): Promise<void>;
};

export function positiveInteger(name: string, value: number | undefined): number | undefined {
  if (value !== undefined && (!Number.isInteger(value) || value <= 0)) {
    throw new AppError("configuration_error", `${name} must be a positive integer, got ${value}`);
  }
  return value;
}

export async function loadGgufContext<Context extends { dispose(): Promise<void> }>(
  options: GgufContextOptions,
  use: {
    /** Named in the error when no source is given, e.g. "createLlamaCppEmbedder". */
    factoryName: string;
    /** What the model is loaded as, for the error message, e.g. "an embedding model". */
    role: string;
    maxDefaultContext: number;
    /** Further option checks, run before anything is downloaded or loaded. */
    checkOptions?: () => void;
    createContext(model: LlamaModel, settings: ContextSettings): Promise<Context>;
  },
): Promise<LoadedGgufContext<Context>> {
  const source = options.modelPath ?? options.source;
  if (source === undefined) throw new AppError("configuration_error", `${use.factoryName} needs a modelPath or source`);
  const threads = positiveInteger("threads", options.threads) ?? availableParallelism();
  positiveInteger("contextSize", options.contextSize);
  positiveInteger("batchSize", options.batchSize);
  use.checkOptions?.();
  const cacheDir = options.cacheDir ?? defaultCacheDirectory();
  const modelPath = await resolveModelFile(source, {
    cacheDir,
    ...(options.registry === undefined ? {} : { registry: options.registry }),
    ...(options.onProgress === undefined ? {} : { onProgress: options.onProgress }),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  });
  const sha256 = await modelFileSha256(modelPath, cacheDir);

  // Without a runtime given, the process's shared one (src/llm/llama-cpp/shared-llama.ts).
  // A runtime given is not released here.
  const { llama, release } =
    options.llama === undefined
      ? await acquireLlama({ maxThreads: threads })
      : { llama: options.llama, release: async () => undefined };
  let model: LlamaModel | undefined;
  try {
    model = await llama.loadModel({ modelPath });
    const contextSize = options.contextSize ?? Math.min(model.trainContextSize, use.maxDefaultContext);
    const context = await use.createContext(model, {
      contextSize,
      batchSize: options.batchSize ?? contextSize,
      threads,
    });
    const loadedModel = model;
    return {
      modelPath,
      sha256,
      model: loadedModel,
      context,
      contextSize,
      async dispose() {
        await context.dispose();
        await loadedModel.dispose();
        await release();
      },
    };
  } catch (error) {
    await model?.dispose().catch(() => undefined);
    await release().catch(() => undefined);
    throw new AppError(
      "configuration_error",
      `Cannot use ${basename(modelPath)} as ${use.role}: ${(error as Error).message}`,
      {
        cause: error,
        details: { modelPath },
      },
    );
  }
}
