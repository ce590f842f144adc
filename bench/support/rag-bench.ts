/**
 * What the RAG suites (rag, rag-overload, online-eval, answer-cache, adapter-routing, …) share: the
 * queries, the ingested corpus, flag reading, percentiles.
 */
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { createEmbedder } from "../../src/embedding/index.js";
import { ingest } from "../../src/ingestion/index.js";
import { openVectorStore } from "../../src/vector-store/index.js";

/** The queries the suites cycle through, in order. */
export const RAG_BENCH_QUERIES: readonly string[] = [
  "My name is Paul Iusztin. Draft a LinkedIn post about RAG systems.",
  "Write a short article about fine-tuning LLMs in the style of Maxime Labonne",
  "How do I build a feature pipeline with a vector database?",
  "Explain model merging to a beginner",
  "Write about quantization of large language models",
  "How should I chunk documents for retrieval?",
];

/** The value after `flag` in `args`, or undefined when the flag is absent. */
export function option(args: readonly string[], flag: string): string | undefined {
  const position = args.indexOf(flag);
  return position === -1 ? undefined : args[position + 1];
}

/** The value at `fraction` (0.5 = p50) of `values` by the nearest-rank rule; NaN when empty. */
export function percentile(values: readonly number[], fraction: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((left, right) => left - right);
  return sorted[Math.min(sorted.length - 1, Math.floor(fraction * sorted.length))] ?? Number.NaN;
}

/**
 * The LLM Twin `articles` ingested with the static embedder into a LanceDB store under `directory`;
 * `ingestMs` is the ingest's own time (not the store's opening or the embedder's loading).
 */
export async function ingestArticles(directory: string, articles: string) {
  const storeUri = `lancedb:${join(directory, "store")}`;
  const store = await openVectorStore(storeUri);
  const embedder = await createEmbedder("static");
  const started = performance.now();
  const summary = await ingest({ source: articles, store, embedder });
  return { storeUri, store, embedder, summary, ingestMs: performance.now() - started };
}

/** Disposes all of `resources` at once; a failure of one does not stop the others. */
export async function disposeAll(...resources: AsyncDisposable[]): Promise<void> {
  await Promise.allSettled(resources.map((resource) => resource[Symbol.asyncDispose]()));
}
