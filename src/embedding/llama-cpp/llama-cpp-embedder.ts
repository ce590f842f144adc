/**
 * The GGUF embedder: an embedding model (bge-small, all-MiniLM-L6-v2, nomic-embed, ...) on llama.cpp
 * through node-llama-cpp's embedding context. Inputs longer than the context are rejected with
 * `input_too_long`, never truncated; vectors are L2-normalised.
 */

import { basename } from "node:path";
import type { LlamaModel, Token } from "node-llama-cpp";
import { AppError } from "../../errors/app-error.js";
import type { Embedder, EmbedOptions } from "../port.js";
import { type GgufModelOptions, loadGgufContext, positiveInteger } from "./load-gguf-context.js";

export type LlamaCppEmbedderOptions = GgufModelOptions & {
  /** Context size in tokens. Default: the model's training context, at most 8192. */
  contextSize?: number;
  /** llama.cpp batch size in tokens. Default: the context size (embedding needs the whole input in one batch). */
  batchSize?: number;
  /** Longest accepted input in tokens, special tokens included. Default and maximum: contextSize - 1. */
  maxInputTokens?: number;
  /** Texts per `embed` call. Default 32. */
  maxBatchSize?: number;
};

export type LlamaCppEmbedder = Embedder & {
  readonly modelPath: string;
  readonly sha256: string;
  /** Unit vectors of inputs given as token ids (OpenAI's token-array input), each checked against the limit. */
  embedTokens(inputs: ReadonlyArray<readonly number[]>, options?: EmbedOptions): Promise<Float32Array[]>;
};

export const DEFAULT_GGUF_MAX_BATCH_SIZE = 32;
const MAX_DEFAULT_CONTEXT = 8192;

export async function createLlamaCppEmbedder(options: LlamaCppEmbedderOptions): Promise<LlamaCppEmbedder> {
  let maxBatchSize = DEFAULT_GGUF_MAX_BATCH_SIZE;
  const loaded = await loadGgufContext(options, {
    factoryName: "createLlamaCppEmbedder",
    role: "an embedding model",
    maxDefaultContext: MAX_DEFAULT_CONTEXT,
    checkOptions() {
      maxBatchSize = positiveInteger("maxBatchSize", options.maxBatchSize) ?? DEFAULT_GGUF_MAX_BATCH_SIZE;
      positiveInteger("maxInputTokens", options.maxInputTokens);
    },
    createContext: (model, settings) => model.createEmbeddingContext(settings),
  });
  const { modelPath, sha256, contextSize } = loaded;
  const loadedModel = loaded.model;
  const embeddingContext = loaded.context;
  // node-llama-cpp requires inputs strictly shorter than the context.
  const usableTokens = contextSize - 1;
  const maxInputTokens = Math.min(options.maxInputTokens ?? usableTokens, usableTokens);
  const dimensions = loadedModel.embeddingVectorSize;
  const id = `gguf:${basename(modelPath)}@${sha256.slice(0, 12)}`;
  const vocabularySize =
    (loadedModel.fileInfo.metadata as { tokenizer?: { ggml?: { tokens?: readonly unknown[] } } }).tokenizer?.ggml
      ?.tokens?.length ?? Number.POSITIVE_INFINITY;
  let disposed = false;

  function countTokens(text: string): number {
    return embeddingContext.calculateInputLength(text);
  }

  function checkLength(text: string, index: number): void {
    const tokens = countTokens(text);
    if (tokens > maxInputTokens) {
      throw new AppError(
        "input_too_long",
        `text ${index} has ${tokens} tokens; ${id} accepts at most ${maxInputTokens} (it is never truncated)`,
        { details: { index, tokens, maxInputTokens, param: "input" } },
      );
    }
  }

  async function embedOne(text: string | readonly number[]): Promise<Float32Array> {
    const input =
      typeof text !== "string"
        ? text.length === 0
          ? emptyInput(loadedModel)
          : (text as Token[])
        : text.trim() === ""
          ? emptyInput(loadedModel)
          : text;
    const embedding = await embeddingContext.getEmbeddingFor(input);
    const values = embedding.vector;
    if (values.length !== dimensions) {
      throw new AppError(
        "dimension_mismatch",
        `${id} returned a ${values.length}-dimensional vector; expected ${dimensions}`,
      );
    }
    let norm = 0;
    for (const value of values) norm += value * value;
    norm = Math.sqrt(norm);
    if (!Number.isFinite(norm) || norm === 0) {
      throw new AppError("internal_error", `${id} returned a zero or non-finite vector`);
    }
    const vector = new Float32Array(dimensions);
    for (let index = 0; index < dimensions; index += 1) vector[index] = (values[index] ?? 0) / norm;
    return vector;
  }

  const dispose = async (): Promise<void> => {
    if (disposed) return;
    disposed = true;
    await loaded.dispose();
  };

  return {
    id,
    dimensions,
    maxInputTokens,
    maxBatchSize,
    modelPath,
    sha256,
    countTokens,
    async embed(texts: readonly string[], embedOptions: EmbedOptions = {}): Promise<Float32Array[]> {
      if (disposed) throw new AppError("internal_error", `${id} was disposed`);
      for (const [index, text] of texts.entries()) checkLength(text, index);
      const vectors: Float32Array[] = [];
      for (const text of texts) {
        if (embedOptions.signal?.aborted === true) {
          throw new AppError("aborted", "embedding was aborted", { cause: embedOptions.signal.reason });
        }
        vectors.push(await embedOne(text));
      }
      return vectors;
    },
    async embedTokens(inputs, embedOptions: EmbedOptions = {}): Promise<Float32Array[]> {
      if (disposed) throw new AppError("internal_error", `${id} was disposed`);
      for (const [index, tokens] of inputs.entries()) {
        if (tokens.length > maxInputTokens) {
          throw new AppError(
            "input_too_long",
            `input ${index} has ${tokens.length} tokens; ${id} accepts at most ${maxInputTokens} (it is never truncated)`,
            { details: { index, tokens: tokens.length, maxInputTokens, param: "input" } },
          );
        }
        const outside = tokens.find((token) => !Number.isInteger(token) || token < 0 || token >= vocabularySize);
        if (outside !== undefined) {
          throw new AppError("validation_error", `input ${index}: token id ${outside} is not in the vocabulary`, {
            details: { param: "input" },
          });
        }
      }
      const vectors: Float32Array[] = [];
      for (const tokens of inputs) {
        if (embedOptions.signal?.aborted === true) {
          throw new AppError("aborted", "embedding was aborted", { cause: embedOptions.signal.reason });
        }
        vectors.push(await embedOne(tokens));
      }
      return vectors;
    },
    [Symbol.asyncDispose]: dispose,
  };
}

/** An empty text still gets a vector: the embedding of the model's beginning (or end) token alone. */
function emptyInput(model: LlamaModel): Token[] {
  const token = model.tokens.bos ?? model.tokens.eos;
  if (token === null) throw new AppError("validation_error", "cannot embed an empty text with this model");
  return [token];
}
