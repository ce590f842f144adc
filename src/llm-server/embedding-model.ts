/**
 * Loads serve-llm's --embedding-model with the GGUF embedder (src/embedding/llama-cpp). A
 * `registry:<name>@<version|stage>` source is read from --registry, exactly as --model is, and the
 * model is then named by its registry name.
 */
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
  const fromRegistry = await resolveRegistrySource(source, config);
  // Loaded only when asked for: node-llama-cpp's embedding context.
  const { createLlamaCppEmbedder } = await import("../embedding/llama-cpp/index.js");
  const embedder = await createLlamaCppEmbedder({
    source: fromRegistry?.path ?? source,
    ...(config.cacheDir === undefined ? {} : { cacheDir: config.cacheDir }),
    ...(config.threads === undefined ? {} : { threads: config.threads }),
    ...(config.embeddingMaxInputTokens === undefined ? {} : { maxInputTokens: config.embeddingMaxInputTokens }),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  }).catch((error: unknown) => {
    // Two model files: say that this one is the embedding model.
    if (!isAppError(error)) throw error;
    throw new AppError(error.code, `--embedding-model ${source}: ${error.message}`, { cause: error });
  });
  // Its registry name and version (a `registry:` source), in the log line and on the model.
  const registry = fromRegistry === undefined ? {} : { registry: fromRegistry.registry };
  const name = fromRegistry?.registry.name ?? basename(embedder.modelPath).replace(/\.gguf$/i, "");
  options.logger?.info(
    {
      embeddingModel: name,
      embedderId: embedder.id,
      dimensions: embedder.dimensions,
      ...registry,
    },
    "embedding model ready",
  );
  return {
    name,
    embedder,
    maxInputs: config.embeddingMaxInputs,
    ...registry,
  };
}

/** A `registry:` source → its checked local file, name and version; undefined for other sources. */
async function resolveRegistrySource(
  source: string,
  config: Pick<LlmServerConfig, "registry" | "cacheDir">,
): Promise<{ path: string; registry: { name: string; version: number } } | undefined> {
  const { isRegistryReference } = await import("../models-registry/open.js");
  if (!isRegistryReference(source.trim())) return undefined;
  const { resolveModelSource } = await import("../model-source/index.js");
  const { path, entry } = await resolveModelSource(source, {
    ...(config.registry === undefined ? {} : { registry: config.registry }),
    ...(config.cacheDir === undefined ? {} : { cacheDir: config.cacheDir }),
  });
  if (entry === undefined) throw new Error(`${source} resolved without a registry entry`);
  if (entry.kind === "adapter")
    throw new AppError(
      "configuration_error",
      `--embedding-model ${source} is a LoRA adapter (${entry.name}@${entry.version}); register the embedding model as a base model (llm-twin models register --kind base)`,
    );
  return { path, registry: { name: entry.name, version: entry.version } };
}
