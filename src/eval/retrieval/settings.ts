/** The retrieval evaluation's settings and defaults, apart from the harness so flag parsing stays light. */
import type { DataCategory } from "../../domain/index.js";
import { DEFAULT_RAG_CONFIG } from "../../rag/config.js";
import type { SelfQueryMode } from "../../rag/types.js";
import type { HybridFusion, SearchMode } from "../../vector-store/index.js";

export const DEFAULT_EVAL_STORE_ROOT = "./.llm-twin/eval";

export type EvaluationSettings = {
  mode: SearchMode;
  /** The cut-off of nDCG, recall and MRR ("@10"). Default 10. */
  k: number;
  /** Documents kept per query for recall@depth. Default 100. */
  depth: number;
  /** Chunks asked of the store per search. Default 200 (abstracts may have several chunks). */
  searchLimit: number;
  hybridFusion: HybridFusion;
  hybridDenseWeight: number;
  rrfK: number;
  /** Weight of title matches added to the search lists' scores (0 = off). */
  titleWeight: number;
  /** Candidates scored by the reranker (when there is one); recall@depth is then within them. Default 100. */
  rerankCandidates: number;
  categories: DataCategory[];
  selfQuery: SelfQueryMode;
  /** Queries after expansion, the original included (1 = off). Default 1. */
  expandQueries: number;
};

export const DEFAULT_EVALUATION_SETTINGS: EvaluationSettings = {
  mode: "hybrid",
  k: 10,
  depth: 100,
  searchLimit: 200,
  // The service's own fusion settings, so that evaluation measures what the service serves.
  hybridFusion: DEFAULT_RAG_CONFIG.hybridFusion,
  hybridDenseWeight: DEFAULT_RAG_CONFIG.hybridDenseWeight,
  rrfK: DEFAULT_RAG_CONFIG.rrfK,
  titleWeight: DEFAULT_RAG_CONFIG.titleWeight,
  rerankCandidates: 100,
  categories: ["articles"],
  selfQuery: "off",
  expandQueries: 1,
};
