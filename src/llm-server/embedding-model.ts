/** Loads serve-llm's --embedding-model with the GGUF embedder (src/embedding/llama-cpp). */
import { basename } from "node:path";
import type { FastifyBaseLogger } from "fastify";
import { AppError, isAppError } from "../errors/index.js";
import type { LlmServerConfig } from "./config.js";
import type { EmbeddingModel } from "./embedding-holder.js";

export async function loadEmbeddingModel(
  config: LlmServerConfig,
  options: { signal?: AbortSignal; logger?: Pick<FastifyBaseLogger, "info"> },
): Promise<EmbeddingModel> {
  const source = config.embeddingModel;
  if (source === undefined) throw new Error("loadEmbeddingModel needs config.embeddingModel");
  // Loaded only when asked for: node-llama-cpp's embedding context.
  const { createLlamaCppEmbedder } = await import("../embedding/llama-cpp/index.js");
  const embedder = await createLlamaCppEmbedder({
    source,
    ...(config.cacheDir === undefined ? {} : { cacheDir: config.cacheDir }),
    ...(config.threads === undefined ? {} : { threads: config.threads }),
    ...(config.embeddingMaxInputTokens === undefined ? {} : { maxInputTokens: config.embeddingMaxInputTokens }),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  }).catch((error: unknown) => {
    // Two model files: say that this one is the embedding model.
    if (!isAppError(error)) throw error;
    throw new AppError(error.code, `--embedding-model ${source}: ${error.message}`, { cause: error });
  });
  const name = basename(embedder.modelPath).replace(/\.gguf$/i, "");
  options.logger?.info(
    { embeddingModel: name, embedderId: embedder.id, dimensions: embedder.dimensions },
    "embedding model ready",
  );
  return { name, embedder, maxInputs: config.embeddingMaxInputs };
}
