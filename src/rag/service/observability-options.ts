import { z } from "zod";
import type { Setting } from "../../config/settings.js";
import { DEFAULT_TRACE_FILE_MAX_BYTES, DEFAULT_TRACE_LOG_CAPACITY } from "../../observability/tracing/trace-log.js";

/** A whole number from a flag or variable, at least `min`. */
export const integer = (min: number) => z.coerce.number().int().min(min);
export const milliseconds = integer(1);

/** Tracing, feedback and online-evaluation flags of the RAG service (part of `RAG_SERVICE_OPTIONS`). */
export const OBSERVABILITY_OPTIONS = [
  {
    key: "traceCapacity",
    flag: "--trace-capacity <n>",
    env: "LLM_TWIN_TRACE_CAPACITY",
    schema: integer(1),
    help: "traces kept in memory (GET /traces)",
    default: String(DEFAULT_TRACE_LOG_CAPACITY),
  },
  {
    key: "traceFile",
    flag: "--trace-file <path>",
    env: "LLM_TWIN_TRACE_FILE",
    schema: z.string().min(1).optional(),
    help: "also append traces to this JSON Lines file",
  },
  {
    key: "traceFileMaxBytes",
    flag: "--trace-file-max-bytes <bytes>",
    env: "LLM_TWIN_TRACE_FILE_MAX_BYTES",
    schema: integer(1024),
    help: "rotate the trace file beyond this size",
    default: String(DEFAULT_TRACE_FILE_MAX_BYTES),
  },
  {
    key: "feedbackFile",
    flag: "--feedback-file <path>",
    env: "LLM_TWIN_FEEDBACK_FILE",
    schema: z.string().min(1),
    help: "JSON Lines file of the answers' feedback (POST /feedback), kept across restarts",
    default: "./.llm-twin/feedback.jsonl",
  },
  {
    key: "feedbackCapacity",
    flag: "--feedback-capacity <n>",
    env: "LLM_TWIN_FEEDBACK_CAPACITY",
    schema: integer(1),
    help: "feedback entries kept (the oldest are dropped beyond)",
    default: "10000",
  },
  {
    key: "feedbackStore",
    flag: "--feedback-store <url>",
    env: "LLM_TWIN_FEEDBACK_STORE",
    schema: z
      .string()
      .regex(/^rediss?:\/\/\S+$/i, "must be a redis:// or rediss:// URL (leave it unset for the local --feedback-file)")
      .optional(),
    help: "keep the feedback in this Redis (redis://host:6379/0) so replicas share it; unset: the local --feedback-file",
  },
  {
    key: "feedbackStoreTimeoutMs",
    flag: "--feedback-store-timeout-ms <ms>",
    env: "LLM_TWIN_FEEDBACK_STORE_TIMEOUT_MS",
    schema: milliseconds,
    help: "wait for the feedback store's Redis at start (fail beyond)",
    default: "5000",
  },
  {
    key: "feedbackCommentMaxChars",
    flag: "--feedback-comment-max-chars <n>",
    env: "LLM_TWIN_FEEDBACK_COMMENT_MAX_CHARS",
    schema: integer(1),
    help: "longest feedback comment accepted",
    default: "2000",
  },
  {
    key: "onlineEvalRate",
    flag: "--online-eval-rate <share>",
    env: "LLM_TWIN_ONLINE_EVAL_RATE",
    schema: z.coerce.number().min(0).max(1),
    help: "share of answers scored in the background by the judge and the voice model (0 = off, 0.1 = one in ten)",
    default: "0",
  },
  {
    key: "onlineEvalQueue",
    flag: "--online-eval-queue <n>",
    env: "LLM_TWIN_ONLINE_EVAL_QUEUE",
    schema: integer(1),
    help: "answers waiting for online evaluation at most (beyond, samples are dropped)",
    default: "100",
  },
  {
    key: "judgeUrl",
    flag: "--judge-url <url>",
    env: "LLM_TWIN_JUDGE_URL",
    schema: z.string().url().optional(),
    help: "online evaluation: OpenAI-compatible chat API of the judge",
  },
  {
    key: "judgeModel",
    flag: "--judge-model <name>",
    env: "LLM_TWIN_JUDGE_MODEL",
    schema: z.string().min(1),
    help: "online evaluation: model name sent to the judge",
    default: "judge",
  },
  {
    key: "judgeApiKey",
    flag: "--judge-api-key <key>",
    env: "LLM_TWIN_JUDGE_API_KEY",
    schema: z.string().min(1).optional(),
    help: "online evaluation: bearer token of the judge",
  },
  {
    key: "judgeTimeoutMs",
    flag: "--judge-timeout-ms <ms>",
    env: "LLM_TWIN_JUDGE_TIMEOUT_MS",
    schema: milliseconds,
    help: "online evaluation: deadline of one judge call",
    default: "60000",
  },
  {
    key: "voiceCorpus",
    flag: "--voice-corpus <path>",
    env: "LLM_TWIN_VOICE_CORPUS",
    schema: z.string().min(1).optional(),
    help: "online evaluation: the authors' documents of the voice model",
  },
  {
    key: "tracePrompts",
    flag: "--trace-prompts <mode>",
    env: "LLM_TWIN_TRACE_PROMPTS",
    schema: z.enum(["full", "redacted", "off"]),
    help: "what traces keep of queries, prompts, retrieved chunks and answers: full | redacted (emails, keys, secret-looking numbers masked) | off",
    default: "full",
  },
  {
    key: "otlpEndpoint",
    flag: "--otlp-endpoint <url>",
    env: "LLM_TWIN_OTLP_ENDPOINT",
    schema: z.string().url().optional(),
    help: "export traces over OTLP/HTTP to this collector",
  },
] as const satisfies readonly Setting[];
