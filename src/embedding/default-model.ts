/**
 * The default embedder ("auto"): a small sentence-embedding GGUF, bge-small-en-v1.5 at Q8_0
 * (BERT, 33M parameters, 384 dimensions, CLS pooling, 512 tokens, ~36 MB), downloaded once into the
 * cache with progress, as the default LLM is. Why this one: on BEIR SciFact it scores ~0.72 nDCG@10
 * where all-MiniLM-L6-v2 scores ~0.645 (MTEB retrieval average 51.7 vs 42.0), for the same
 * dimensions and about the same size; Q8_0 keeps its quality at half the F16 size.
 *
 * Where the model cannot be downloaded (no network), the static word-vector embedder serves, with a
 * warning naming the flags; a store keeps the embedder it was built with: a store built with the
 * static embedder is served with it (no download is tried), and a store built with the default
 * model needs it (no silent fallback that the fingerprint guard would then refuse).
 */
import { AppError, isAppError } from "../errors/index.js";
import { createDownloadProgressReporter, type DownloadProgress } from "../model-source/index.js";

export const AUTO_EMBEDDER_SPEC = "auto";
export const STATIC_EMBEDDER_SPEC = "static";
export const DEFAULT_EMBEDDING_MODEL = "hf:ChristianAzinn/bge-small-en-v1.5-gguf:Q8_0";

type Attempt<Embedder> = {
  /** The embedder id recorded in the store's fingerprint, when the store already has one. */
  storeEmbedderId: string | undefined;
  loadDefaultModel: (onProgress: (progress: DownloadProgress) => void) => Promise<Embedder>;
  loadStatic: () => Promise<Embedder>;
  log: (message: string) => void;
  onProgress: ((progress: DownloadProgress) => void) | undefined;
};

/** A download failure that is the network's (unreachable, timed out), as opposed to a bad model. */
export function isNetworkFailure(error: unknown): boolean {
  return isAppError(error) && (error.code === "upstream_unavailable" || error.code === "timeout");
}

export async function createAutoEmbedder<Embedder>(attempt: Attempt<Embedder>): Promise<Embedder> {
  const storeId = attempt.storeEmbedderId;
  if (storeId?.startsWith("static:")) {
    attempt.log(
      `the store was built with the static embedder (${storeId}): using it. To use the default model ` +
        `${DEFAULT_EMBEDDING_MODEL}, rebuild the store: llm-twin ingest --recreate --embedder auto`,
    );
    return attempt.loadStatic();
  }
  try {
    return await attempt.loadDefaultModel(
      attempt.onProgress ?? createDownloadProgressReporter({ label: `download ${DEFAULT_EMBEDDING_MODEL}` }),
    );
  } catch (error) {
    if (!isNetworkFailure(error)) throw error;
    const reason = error instanceof Error ? error.message : String(error);
    if (storeId !== undefined) {
      throw new AppError(
        "model_not_found",
        `the store was built with ${storeId} but the default embedding model ${DEFAULT_EMBEDDING_MODEL} ` +
          `cannot be downloaded (${reason}); pass a local copy with --embedder gguf:<path> (LLM_TWIN_EMBEDDER)`,
        { cause: error },
      );
    }
    attempt.log(
      `could not download the default embedding model ${DEFAULT_EMBEDDING_MODEL} (${reason}): embedding with the ` +
        "static word vectors instead (weaker retrieval). Pass --embedder gguf:<path|url|hf:...> (LLM_TWIN_EMBEDDER) " +
        "for a local model, or --embedder static to choose it and silence this.",
    );
    return attempt.loadStatic();
  }
}
