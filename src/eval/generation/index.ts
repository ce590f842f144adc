/** Generation evaluation: the twin's answers scored by a judge over an OpenAI-compatible API and without one. */
export { citationOverlap, DEFAULT_CITATION_OVERLAP, splitSentences } from "./citation-overlap.js";
export {
  createLimiter,
  evaluateGeneration,
  type GenerationEvaluationOptions,
  type QuestionResult,
  type VoiceScore,
} from "./evaluate.js";
export {
  averagePrecision,
  chatCompletionsUrl,
  createOpenAiJudge,
  DEFAULT_JUDGE_OPTIONS,
  type Judge,
  type JudgeOptions,
  type MetricScore,
  metricFromReply,
} from "./judge.js";
export { type GenerationQuestion, parseQuestions, readGenerationQuestions } from "./questions.js";
export { formatGenerationTable, type GenerationRun, generationJson, writeGenerationReport } from "./report.js";
export { type GenerationRunOptions, type InProcessLlm, runGenerationEvaluation } from "./run.js";
export { METRICS, type MetricSummary, metricValue, summarize } from "./summary.js";
export { metricChartSvg } from "./svg-chart.js";
export { createHttpTwin, createInProcessTwin, type Twin, type TwinAnswer } from "./twin.js";
