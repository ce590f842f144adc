/** Retrieval evaluation: BEIR readers, metrics, the harness over the RAG retrieval code, reports. */
export { readBeirCorpus, readBeirCorpusResults, resolveBeirCorpusFile } from "./beir/corpus.js";
export { type BeirQrels, type BeirQuery, readBeirQrels, readBeirQueries, readBeirSplit } from "./beir/queries.js";
export { readBeirCorpusWithTitles } from "./beir/title-in-text.js";
export { mean, mrrAtK, ndcgAtK, percentile, recallAtK } from "./metrics.js";
export {
  type EvaluationDataset,
  LLM_TWIN_DATASET,
  llmTwinQuestionsFile,
  loadEvaluationDataset,
  readLlmTwinQuestions,
} from "./retrieval/datasets.js";
export {
  DEFAULT_EVALUATION_SETTINGS,
  type EvaluationQuery,
  type EvaluationResult,
  type EvaluationSettings,
  evaluateRetrieval,
} from "./retrieval/evaluate.js";
export { type FollowUpCase, llmTwinFollowUpsFile, readLlmTwinFollowUps } from "./retrieval/follow-ups.js";
export { ingestEvaluationCorpus } from "./retrieval/prepare-store.js";
export {
  type EvaluationRun,
  evaluationJson,
  formatEvaluationMarkdown,
  formatEvaluationTable,
} from "./retrieval/report.js";
export {
  DEFAULT_EVAL_STORE_ROOT,
  defaultEvalStoreUri,
  type RunEvaluationOptions,
  runRetrievalEvaluation,
} from "./retrieval/run.js";
