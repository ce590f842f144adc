/**
 * The GGUF reranker: a cross-encoder ranking model (bge-reranker, jina-reranker, Qwen3-Reranker, ...)
 * on llama.cpp through node-llama-cpp's ranking context. Scores are the model's relevance
 * probabilities in [0, 1]. A document longer than the context is split into overlapping chunks and
 * scored by its best chunk (`overflow: "chunk"`, the default) or rejected (`overflow: "error"`).
 */

import { basename } from "node:path";
import { type GgufModelOptions, loadGgufContext } from "../../embedding/llama-cpp/load-gguf-context.js";
import { AppError } from "../../errors/app-error.js";
import type { Reranker, RerankOptions } from "./port.js";

export type LlamaCppRerankerOptions = GgufModelOptions & {
  /** Context size in tokens (query + document + template). Default: the model's training context, at most 2048. */
  contextSize?: number;
  /** llama.cpp batch size in tokens. Default: the context size. */
  batchSize?: number;
  /** What to do with a document that does not fit the context. Default "chunk". */
  overflow?: "chunk" | "error";
};

export type LlamaCppReranker = Reranker & { readonly modelPath: string; readonly contextSize: number };

const MAX_DEFAULT_CONTEXT = 2048;

export async function createLlamaCppReranker(options: LlamaCppRerankerOptions): Promise<LlamaCppReranker> {
  const loaded = await loadGgufContext(options, {
    factoryName: "createLlamaCppReranker",
    role: "a reranker",
    maxDefaultContext: MAX_DEFAULT_CONTEXT,
    createContext: (model, settings) => model.createRankingContext(settings),
  });
  const { modelPath, sha256, contextSize } = loaded;
  const rankingContext = loaded.context;
  const id = `gguf-rerank:${basename(modelPath)}@${sha256.slice(0, 12)}`;
  const onOverflow = options.overflow === "error" ? "throw" : "maxChunk";
  let disposed = false;

  async function scoreOne(query: string, document: string, index: number): Promise<number> {
    try {
      return await rankingContext.rank(query, document, { onOverflow });
    } catch (error) {
      const message = (error as Error).message ?? "";
      if (/context size|too long/i.test(message)) {
        throw new AppError(
          "input_too_long",
          `document ${index} does not fit the reranker's ${contextSize}-token context`,
          {
            cause: error,
            details: { index, contextSize },
          },
        );
      }
      throw new AppError("internal_error", `${id} failed to rank document ${index}: ${message}`, { cause: error });
    }
  }

  const dispose = async (): Promise<void> => {
    if (disposed) return;
    disposed = true;
    await loaded.dispose();
  };

  return {
    id,
    modelPath,
    contextSize,
    async score(query: string, documents: readonly string[], rerankOptions: RerankOptions = {}): Promise<number[]> {
      if (disposed) throw new AppError("internal_error", `${id} was disposed`);
      const scores: number[] = [];
      for (const [index, document] of documents.entries()) {
        if (rerankOptions.signal?.aborted === true) {
          throw new AppError("aborted", "reranking was aborted", { cause: rerankOptions.signal.reason });
        }
        scores.push(await scoreOne(query, document, index));
      }
      return scores;
    },
    [Symbol.asyncDispose]: dispose,
  };
}
