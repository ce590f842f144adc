import { z } from "zod";
import { type Setting, schemas } from "../../config/settings.js";
import { DEFAULT_RAG_HTTP_CONFIG } from "../http/config.js";
import { integer, milliseconds } from "./observability-options.js";

const RATE =
  DEFAULT_RAG_HTTP_CONFIG.rateLimit === false ? { max: 0, timeWindowMs: 60_000 } : DEFAULT_RAG_HTTP_CONFIG.rateLimit;

/** The HTTP edge's flags (body limit, API keys, rate limits, admission, server timeouts); part of `RAG_SERVICE_OPTIONS`. */
export const HTTP_EDGE_OPTIONS = [
  {
    key: "bodyLimit",
    flag: "--body-limit <bytes>",
    env: "LLM_TWIN_BODY_LIMIT",
    schema: integer(1024),
    help: "largest request body (413 beyond)",
    default: String(DEFAULT_RAG_HTTP_CONFIG.bodyLimitBytes),
  },
  {
    key: "apiKeys",
    flag: "--api-keys <keys>",
    env: "LLM_TWIN_API_KEYS",
    schema: schemas.keyList.default([]),
    emptyIsValue: true,
    defaultText: "none (no authentication)",
    help: "comma-separated bearer keys; empty entries are ignored, a list with no key is refused",
  },
  {
    key: "rateLimit",
    flag: "--rate-limit <n>",
    env: "LLM_TWIN_RATE_LIMIT",
    schema: integer(0),
    help: "requests per key (or IP) per window; 0 = unlimited",
    default: String(RATE.max),
  },
  {
    key: "rateLimitWindowMs",
    flag: "--rate-limit-window-ms <ms>",
    env: "LLM_TWIN_RATE_LIMIT_WINDOW_MS",
    schema: milliseconds,
    help: "rate-limit window",
    default: String(RATE.timeWindowMs),
  },
  {
    key: "maxGenerations",
    flag: "--max-generations <n>",
    env: "LLM_TWIN_MAX_GENERATIONS",
    schema: z.union([z.literal("auto"), integer(1)]),
    help: "/rag requests in flight before 429 overloaded (refused before any retrieval); auto = serve: the model's --parallel + queue, serve-rag: 8 (serve-llm's default limit)",
    default: "auto",
  },
  {
    key: "authFailureLimit",
    flag: "--auth-failure-limit <n>",
    env: "LLM_TWIN_AUTH_FAILURE_LIMIT",
    schema: integer(0),
    help: "failed API-key checks per client address per window before 429; 0 = unlimited",
    default: String(DEFAULT_RAG_HTTP_CONFIG.authFailureLimit.max),
  },
  {
    key: "authFailureWindowMs",
    flag: "--auth-failure-window-ms <ms>",
    env: "LLM_TWIN_AUTH_FAILURE_WINDOW_MS",
    schema: milliseconds,
    help: "window of --auth-failure-limit",
    default: String(DEFAULT_RAG_HTTP_CONFIG.authFailureLimit.windowMs),
  },
  {
    key: "headersTimeoutMs",
    flag: "--headers-timeout-ms <ms>",
    env: "LLM_TWIN_HEADERS_TIMEOUT_MS",
    schema: milliseconds,
    help: "time a client has to send the request headers (408 beyond)",
    default: String(DEFAULT_RAG_HTTP_CONFIG.timeouts.headersTimeoutMs),
  },
  {
    key: "receiveTimeoutMs",
    flag: "--receive-timeout-ms <ms>",
    env: "LLM_TWIN_RECEIVE_TIMEOUT_MS",
    schema: milliseconds,
    help: "time a client has to send the whole request, body included (408 beyond)",
    default: String(DEFAULT_RAG_HTTP_CONFIG.timeouts.receiveTimeoutMs),
  },
  {
    key: "keepAliveTimeoutMs",
    flag: "--keep-alive-timeout-ms <ms>",
    env: "LLM_TWIN_KEEP_ALIVE_TIMEOUT_MS",
    schema: milliseconds,
    help: "how long an idle keep-alive connection stays open",
    default: String(DEFAULT_RAG_HTTP_CONFIG.timeouts.keepAliveTimeoutMs),
  },
] as const satisfies readonly Setting[];
