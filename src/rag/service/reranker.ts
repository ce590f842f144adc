/** Loads the GGUF reranker named by --reranker (path, URL, hf: URI or registry: reference; downloads show progress). */
import { createDownloadProgressReporter } from "../../model-source/index.js";
import { createLlamaCppReranker } from "../rerank/llama-cpp-reranker.js";
import type { Reranker } from "../rerank/port.js";

export async function loadReranker(
  source: string,
  cacheDir: string | undefined,
  options: { threads?: number; registry?: string } = {},
): Promise<Reranker> {
  return createLlamaCppReranker({
    source,
    ...(cacheDir === undefined ? {} : { cacheDir }),
    ...(options.threads === undefined ? {} : { threads: options.threads }),
    ...(options.registry === undefined ? {} : { registry: options.registry }),
    onProgress: createDownloadProgressReporter({ label: `download reranker ${source}` }),
  });
}
