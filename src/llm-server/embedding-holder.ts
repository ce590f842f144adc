/**
 * The service's embedding model slot (serve-llm --embedding-model): absent (no embedding model
 * configured: /v1/embeddings answers 404 `embeddings_not_configured`), loading (503), ready or
 * failed. Loaded beside the generation model; it never blocks generation.
 */
import { AppError } from "../errors/index.js";

/** What the routes need of the embedding model (the GGUF embedder, src/embedding/llama-cpp). */
export type ServedEmbedder = {
  readonly id: string;
  readonly dimensions: number;
  readonly maxInputTokens: number;
  countTokens(text: string): number;
  embed(texts: readonly string[], options?: { signal?: AbortSignal }): Promise<Float32Array[]>;
  embedTokens(inputs: ReadonlyArray<readonly number[]>, options?: { signal?: AbortSignal }): Promise<Float32Array[]>;
  [Symbol.asyncDispose](): Promise<void>;
};

export type EmbeddingModel = {
  /** Listed in /v1/models and answered as `model`: the file name without .gguf. */
  name: string;
  embedder: ServedEmbedder;
  /** Inputs per /v1/embeddings request (beyond: 422). */
  maxInputs: number;
  /** Its registry name and version when it comes from the model registry (`registry:` source). */
  registry?: { name: string; version: number };
};

export type EmbeddingHolder = {
  readonly configured: boolean;
  readonly model: EmbeddingModel | undefined;
  /** True once loading failed (the CLI then stops; /v1/embeddings answers 503). */
  readonly failed: boolean;
  /** The model, or `embeddings_not_configured` / `model_loading` / `dependency_unavailable`. */
  require(): EmbeddingModel;
  setReady(model: EmbeddingModel): void;
  setFailed(error: unknown): void;
};

export function createEmbeddingHolder(configured: boolean): EmbeddingHolder {
  let model: EmbeddingModel | undefined;
  let failure: unknown;
  let failed = false;
  return {
    configured,
    get model() {
      return model;
    },
    get failed() {
      return failed;
    },
    require() {
      if (!configured) {
        throw new AppError(
          "embeddings_not_configured",
          "No embedding model: start serve-llm with --embedding-model <gguf | url | hf:... | registry:name@stage> (LLM_TWIN_EMBEDDING_MODEL)",
        );
      }
      if (model !== undefined) return model;
      if (failed) {
        throw new AppError("dependency_unavailable", "The embedding model failed to load", {
          cause: failure,
          retryable: false,
        });
      }
      throw new AppError("model_loading", "The embedding model is loading", { retryable: true });
    },
    setReady(loaded) {
      model = loaded;
    },
    setFailed(error) {
      failure = error;
      failed = true;
    },
  };
}
