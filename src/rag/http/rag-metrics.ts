/** The RAG service's metrics: the shared HTTP ones plus the duration of each RAG step. */
import { Counter, Histogram } from "prom-client";
import { createHttpMetrics, type HttpMetrics } from "../../observability/http/index.js";
import type { RagTimings } from "../types.js";

export type RagMetrics = {
  http: HttpMetrics;
  steps: Histogram<"step">;
  rerankFallbacks: Counter;
  observeTimings(timings: RagTimings): void;
};

const STEPS: Record<Exclude<keyof RagTimings, "totalMs" | "rerank">, string> = {
  selfQueryMs: "self_query",
  expansionMs: "query_expansion",
  embeddingMs: "embedding",
  searchMs: "search",
  rerankMs: "rerank",
  generationMs: "generation",
};

export function createRagMetrics(options: { defaultMetrics?: boolean } = {}): RagMetrics {
  const http = createHttpMetrics("llm_twin_rag_", options);
  const steps = new Histogram({
    name: "llm_twin_rag_step_duration_seconds",
    help: "Duration of each RAG step (self_query, query_expansion, embedding, search, rerank, generation, total)",
    labelNames: ["step"],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [http.registry],
  });
  const rerankFallbacks = new Counter({
    name: "llm_twin_rag_rerank_fallbacks_total",
    help: "Requests whose reranker failed or timed out and kept the fusion order (--reranker-failure fallback)",
    registers: [http.registry],
  });
  return {
    http,
    steps,
    rerankFallbacks,
    observeTimings(timings) {
      if (timings.rerank === "fallback") rerankFallbacks.inc();
      for (const [field, step] of Object.entries(STEPS)) {
        const value = timings[field as keyof typeof STEPS];
        if (value > 0) steps.observe({ step }, value / 1000);
      }
      steps.observe({ step: "total" }, timings.totalMs / 1000);
    },
  };
}
