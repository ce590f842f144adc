/** Loads the GGUF reranker named by --reranker (path, URL or hf: URI; downloads show progress). */
import { createDownloadProgressReporter } from "../../model-source/index.js";
import { createLlamaCppReranker } from "../rerank/llama-cpp-reranker.js";
import type { Reranker } from "../rerank/port.js";

export async function loadReranker(
  source: string,
  cacheDir: string | undefined,
  options: { threads?: number } = {},
): Promise<Reranker> {
  return createLlamaCppReranker({
    source,
    ...(cacheDir === undefined ? {} : { cacheDir }),
    ...(options.threads === undefined ? {} : { threads: options.threads }),
    onProgress: createDownloadProgressReporter({ label: `download reranker ${source}` }),
  });
}
