/** Loads the GGUF reranker named by --reranker (path, URL or hf: URI). */
import type { Reranker } from "../rerank/port.js";

export async function loadReranker(source: string, cacheDir: string | undefined): Promise<Reranker> {
  const { resolveModelFile } = await import("../../llm/model-source/index.js");
  const modelPath = await resolveModelFile(source, cacheDir === undefined ? {} : { cacheDir });
  // Resolved at run time: the adapter is only loaded when a reranker is configured.
  const adapterModule = "../rerank/llama-cpp-reranker.js";
  const adapter = (await import(adapterModule)) as {
    createLlamaCppReranker(options: { modelPath: string }): Promise<Reranker>;
  };
  return adapter.createLlamaCppReranker({ modelPath });
}
