import { DEFAULT_TRACE_FILE_MAX_BYTES, DEFAULT_TRACE_LOG_CAPACITY } from "../../observability/tracing/trace-log.js";
import type { OptionSpec } from "./options.js";

/** Tracing, feedback and online-evaluation flags of the RAG service (part of `RAG_SERVICE_OPTIONS`). */
export const OBSERVABILITY_OPTIONS: OptionSpec[] = [
  {
    key: "traceCapacity",
    flags: "--trace-capacity <n>",
    env: "LLM_TWIN_TRACE_CAPACITY",
    description: "traces kept in memory (GET /traces)",
    default: String(DEFAULT_TRACE_LOG_CAPACITY),
  },
  {
    key: "traceFile",
    flags: "--trace-file <path>",
    env: "LLM_TWIN_TRACE_FILE",
    description: "also append traces to this JSON Lines file",
  },
  {
    key: "traceFileMaxBytes",
    flags: "--trace-file-max-bytes <bytes>",
    env: "LLM_TWIN_TRACE_FILE_MAX_BYTES",
    description: "rotate the trace file beyond this size",
    default: String(DEFAULT_TRACE_FILE_MAX_BYTES),
  },
  {
    key: "feedbackFile",
    flags: "--feedback-file <path>",
    env: "LLM_TWIN_FEEDBACK_FILE",
    description: "JSON Lines file of the answers' feedback (POST /feedback), kept across restarts",
    default: "./.llm-twin/feedback.jsonl",
  },
  {
    key: "feedbackCapacity",
    flags: "--feedback-capacity <n>",
    env: "LLM_TWIN_FEEDBACK_CAPACITY",
    description: "feedback entries kept (the oldest are dropped beyond)",
    default: "10000",
  },
  {
    key: "feedbackStore",
    flags: "--feedback-store <url>",
    env: "LLM_TWIN_FEEDBACK_STORE",
    description:
      "keep the feedback in this Redis (redis://host:6379/0) so replicas share it; unset: the local --feedback-file",
  },
  {
    key: "feedbackStoreTimeoutMs",
    flags: "--feedback-store-timeout-ms <ms>",
    env: "LLM_TWIN_FEEDBACK_STORE_TIMEOUT_MS",
    description: "wait for the feedback store's Redis at start (fail beyond)",
    default: "5000",
  },
  {
    key: "feedbackCommentMaxChars",
    flags: "--feedback-comment-max-chars <n>",
    env: "LLM_TWIN_FEEDBACK_COMMENT_MAX_CHARS",
    description: "longest feedback comment accepted",
    default: "2000",
  },
  {
    key: "onlineEvalRate",
    flags: "--online-eval-rate <share>",
    env: "LLM_TWIN_ONLINE_EVAL_RATE",
    description:
      "share of answers scored in the background by the judge and the voice model (0 = off, 0.1 = one in ten)",
    default: "0",
  },
  {
    key: "onlineEvalQueue",
    flags: "--online-eval-queue <n>",
    env: "LLM_TWIN_ONLINE_EVAL_QUEUE",
    description: "answers waiting for online evaluation at most (beyond, samples are dropped)",
    default: "100",
  },
  {
    key: "judgeUrl",
    flags: "--judge-url <url>",
    env: "LLM_TWIN_JUDGE_URL",
    description: "online evaluation: OpenAI-compatible chat API of the judge",
  },
  {
    key: "judgeModel",
    flags: "--judge-model <name>",
    env: "LLM_TWIN_JUDGE_MODEL",
    description: "online evaluation: model name sent to the judge",
    default: "judge",
  },
  {
    key: "judgeApiKey",
    flags: "--judge-api-key <key>",
    env: "LLM_TWIN_JUDGE_API_KEY",
    description: "online evaluation: bearer token of the judge",
  },
  {
    key: "judgeTimeoutMs",
    flags: "--judge-timeout-ms <ms>",
    env: "LLM_TWIN_JUDGE_TIMEOUT_MS",
    description: "online evaluation: deadline of one judge call",
    default: "60000",
  },
  {
    key: "voiceCorpus",
    flags: "--voice-corpus <path>",
    env: "LLM_TWIN_VOICE_CORPUS",
    description: "online evaluation: the authors' documents of the voice model",
  },
  {
    key: "tracePrompts",
    flags: "--trace-prompts <mode>",
    env: "LLM_TWIN_TRACE_PROMPTS",
    description:
      "what traces keep of queries, prompts, retrieved chunks and answers: full | redacted (emails, keys, secret-looking numbers masked) | off",
    default: "full",
  },
  {
    key: "otlpEndpoint",
    flags: "--otlp-endpoint <url>",
    env: "LLM_TWIN_OTLP_ENDPOINT",
    description: "export traces over OTLP/HTTP to this collector",
  },
];
