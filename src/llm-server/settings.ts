/**
 * `serve-llm`'s settings in the configuration registry (src/config/settings.ts): flag, variable,
 * zod type, default and help of each. ./config.ts validates them into the service's configuration.
 * A setting's `key` is its name in that configuration (the flag in camelCase unless it says otherwise).
 */
import { z } from "zod";
import { type Setting, schemas } from "../config/settings.js";
import { ENGINE_BACKENDS } from "../llm/llama-cpp/decode-port.js";
import { LORA_MODES } from "../llm/llama-cpp/lora-mode.js";
import { DEFAULT_WATERMARK_DELTA, DEFAULT_WATERMARK_GAMMA } from "../llm/watermark/watermark-rule.js";
import { DEFAULT_AUTH_FAILURE_LIMIT } from "../observability/http/api-keys.js";
import { DEFAULT_HTTP_TIMEOUTS } from "../observability/http/server-options.js";

const positiveInt = z.coerce.number().int().positive();

export const SERVE_LLM_SETTINGS = [
  {
    key: "model",
    flag: "--model <source>",
    env: "LLM_TWIN_MODEL",
    schema: z.string().min(1),
    help: "GGUF model: a path, an http(s) URL, hf:<user>/<repo>[:<quant>] or registry:<name>@<version|stage> (the model registry; its production adapters load too)",
    defaultText: "the .gguf in /opt/ml/model",
  },
  {
    key: "modelId",
    flag: "--model-id <id>",
    env: "LLM_TWIN_MODEL_ID",
    schema: z.string().min(1).optional(),
    help: "model id reported to clients",
    defaultText: "file name",
  },
  {
    key: "host",
    flag: "--host <host>",
    env: "LLM_TWIN_HOST",
    schema: z.string().min(1),
    default: "0.0.0.0",
    help: "address to listen on; the default 0.0.0.0 accepts connections on every network interface of this machine (anyone who can reach it can generate unless --api-keys is set; use 127.0.0.1 for this machine only)",
  },
  {
    key: "port",
    flag: "--port <port>",
    env: "LLM_TWIN_PORT",
    alsoEnv: "SAGEMAKER_BIND_TO_PORT",
    // No commander default: SAGEMAKER_BIND_TO_PORT applies when neither the flag nor the variable is set.
    schema: z.coerce.number().int().min(0).max(65535).default(8080),
    defaultText: "8080",
    help: "port to listen on (also SAGEMAKER_BIND_TO_PORT)",
  },
  {
    key: "parallel",
    flag: "--parallel <n>",
    env: "LLM_TWIN_PARALLEL",
    schema: positiveInt,
    default: "4",
    help: "context sequences decoded together (continuous batching)",
  },
  {
    key: "engine",
    flag: "--engine <engine>",
    env: "LLM_TWIN_ENGINE",
    // Unset: native when the addon is built (npm run build:native), else node-llama-cpp.
    schema: z.enum(ENGINE_BACKENDS).optional(),
    defaultText: "native when built, else node-llama-cpp",
    help: "who decodes and samples: native (the addon built by npm run build:native: every sequence on one native thread, like llama-server) or node-llama-cpp",
  },
  {
    key: "threads",
    flag: "--threads <n>",
    env: "LLM_TWIN_THREADS",
    // Unset: decided once llama.cpp is loaded (src/llm/llama-cpp/runtime.ts): every core with an
    // OpenMP build, else one core fewer (docs/benchmarks.md, issue 8).
    schema: positiveInt.optional(),
    defaultText: "every core with a build of llama.cpp for this machine (npm run build:llama, OpenMP), else cores − 1",
    help: "llama.cpp threads for one-token decodes (one sequence generating); also the default of --threads-batch",
  },
  {
    key: "threadsBatch",
    flag: "--threads-batch <n>",
    env: "LLM_TWIN_THREADS_BATCH",
    // Unset: --threads when given, else every core (runtime.ts, defaultThreadsBatch).
    schema: positiveInt.optional(),
    defaultText: "--threads when given, else every core",
    help: "llama.cpp threads for prompts and decodes of several sequences (native engine; node-llama-cpp uses --threads for all)",
  },
  {
    key: "batchSize",
    flag: "--batch-size <n>",
    env: "LLM_TWIN_BATCH_SIZE",
    schema: positiveInt,
    default: "512",
    help: "tokens per llama.cpp decode call",
  },
  {
    key: "flashAttention",
    flag: "--flash-attention <mode>",
    env: "LLM_TWIN_FLASH_ATTENTION",
    schema: z.enum(["auto", "on", "off"]),
    default: "auto",
    help: "llama.cpp flash attention: auto|on|off (auto = on where supported; less CPU per token)",
  },
  {
    key: "promptCache",
    flag: "--prompt-cache <mode>",
    env: "LLM_TWIN_PROMPT_CACHE",
    schema: z.enum(["on", "off"]),
    default: "on",
    help: "on|off: reuse the KV of the longest prompt prefix a sequence already holds (per request: cache_prompt: false)",
  },
  {
    key: "maxN",
    flag: "--max-n <n>",
    env: "LLM_TWIN_MAX_N",
    // Most sequences per request (OpenAI n, TGI best_of); also bounded by --parallel.
    schema: positiveInt,
    default: "8",
    help: "most sequences one request may ask for (OpenAI n, TGI best_of); each takes a parallel sequence, so also at most --parallel",
  },
  {
    key: "loraContexts",
    flag: "--lora-contexts <n>",
    env: "LLM_TWIN_LORA_CONTEXTS",
    // Unset: 2 with --lora, else 1 (src/llm/llama-cpp/engine.ts, defaultLoraContexts).
    schema: positiveInt.max(64).optional(),
    defaultText: "2 with --lora in contexts mode, else 1",
    help: "with --lora-mode contexts: llama.cpp contexts (each with its own KV memory) in which requests for different LoRA adapters decode concurrently; more adapter sets in use take turns (1–64)",
  },
  {
    key: "loraMode",
    flag: "--lora-mode <mode>",
    env: "LLM_TWIN_LORA_MODE",
    schema: z.enum(LORA_MODES),
    default: "auto",
    help: "auto|batched|contexts: how LoRA adapters are applied; batched = each token's adapter inside one llama.cpp decode (base and every adapter share each step; F32/F16 adapters on matrix-multiplied weights), contexts = one llama.cpp context per adapter set (--lora-contexts); auto = batched when every adapter allows it, else contexts",
  },
  {
    key: "contextSize",
    flag: "--context-size <n>",
    env: "LLM_TWIN_CONTEXT_SIZE",
    schema: positiveInt.optional(),
    defaultText: "max total tokens",
    help: "context tokens per sequence",
  },
  {
    key: "maxConcurrentRequests",
    flag: "--max-concurrent-requests <n>",
    env: "LLM_TWIN_MAX_CONCURRENT_REQUESTS",
    schema: positiveInt.optional(),
    defaultText: "parallel + max queue",
    help: "running + waiting requests; beyond it 429",
  },
  {
    key: "maxQueue",
    flag: "--max-queue <n>",
    env: "LLM_TWIN_MAX_QUEUE",
    schema: z.coerce.number().int().min(0).optional(),
    defaultText: "parallel",
    help: "requests waiting for a free sequence",
  },
  {
    key: "maxInputTokens",
    flag: "--max-input-tokens <n>",
    env: "LLM_TWIN_MAX_INPUT_TOKENS",
    schema: positiveInt.optional(),
    defaultText: "min(1024, max total - 1)",
    help: "prompt tokens per request",
  },
  {
    key: "maxTotalTokens",
    flag: "--max-total-tokens <n>",
    env: "LLM_TWIN_MAX_TOTAL_TOKENS",
    schema: positiveInt.optional(),
    defaultText: "min(2048, model's context)",
    help: "prompt + max_new_tokens per request",
  },
  {
    key: "maxNewTokens",
    flag: "--max-new-tokens <n>",
    env: "LLM_TWIN_MAX_NEW_TOKENS",
    schema: positiveInt.optional(),
    defaultText: "max total - 1",
    help: "largest max_new_tokens accepted",
  },
  {
    key: "requestTimeoutSeconds",
    flag: "--request-timeout <seconds>",
    env: "LLM_TWIN_REQUEST_TIMEOUT",
    schema: z.coerce.number().min(0),
    default: "60",
    help: "per-request timeout, queue wait included (0 = none)",
  },
  {
    key: "bodyLimitBytes",
    flag: "--body-limit <bytes>",
    env: "LLM_TWIN_BODY_LIMIT",
    schema: positiveInt,
    default: "1048576",
    help: "largest request body",
  },
  {
    key: "apiKeys",
    flag: "--api-keys <keys>",
    env: "LLM_TWIN_API_KEYS",
    // Comma-separated bearer keys; unset = no authentication (like vLLM's --api-key).
    schema: schemas.keyList.default([]),
    emptyIsValue: true,
    defaultText: "none (no authentication)",
    help: "comma-separated bearer keys: every route but /health and /ping then needs 'Authorization: Bearer <key>' (vLLM's --api-key); empty entries are ignored, a list with no key is refused",
  },
  {
    key: "authFailureLimit",
    flag: "--auth-failure-limit <n>",
    env: "LLM_TWIN_AUTH_FAILURE_LIMIT",
    schema: z.coerce.number().int().min(0),
    default: String(DEFAULT_AUTH_FAILURE_LIMIT.max),
    help: "failed API-key checks per client address per window before 429; 0 = unlimited",
  },
  {
    key: "authFailureWindowMs",
    flag: "--auth-failure-window-ms <ms>",
    env: "LLM_TWIN_AUTH_FAILURE_WINDOW_MS",
    schema: positiveInt,
    default: String(DEFAULT_AUTH_FAILURE_LIMIT.windowMs),
    help: "window of --auth-failure-limit",
  },
  {
    key: "headersTimeoutMs",
    flag: "--headers-timeout-ms <ms>",
    env: "LLM_TWIN_HEADERS_TIMEOUT_MS",
    schema: positiveInt,
    default: String(DEFAULT_HTTP_TIMEOUTS.headersTimeoutMs),
    help: "time a client has to send the request headers (408 beyond)",
  },
  {
    key: "receiveTimeoutMs",
    flag: "--receive-timeout-ms <ms>",
    env: "LLM_TWIN_RECEIVE_TIMEOUT_MS",
    schema: positiveInt,
    default: String(DEFAULT_HTTP_TIMEOUTS.receiveTimeoutMs),
    help: "time a client has to send the whole request, body included (408 beyond)",
  },
  {
    key: "keepAliveTimeoutMs",
    flag: "--keep-alive-timeout-ms <ms>",
    env: "LLM_TWIN_KEEP_ALIVE_TIMEOUT_MS",
    schema: positiveInt,
    default: String(DEFAULT_HTTP_TIMEOUTS.keepAliveTimeoutMs),
    help: "how long an idle keep-alive connection stays open",
  },
  {
    key: "gracePeriodSeconds",
    flag: "--grace-period <seconds>",
    env: "LLM_TWIN_GRACE_PERIOD",
    schema: z.coerce.number().min(0).max(29),
    default: "25",
    help: "time in-flight requests get to finish on SIGTERM (< 30)",
  },
  {
    key: "cacheDir",
    flag: "--cache-dir <dir>",
    env: "LLM_TWIN_CACHE_DIR",
    schema: z.string().min(1).optional(),
    defaultText: "~/.cache/llm-twin",
    help: "where downloaded models are kept",
  },
  {
    key: "logLevel",
    flag: "--log-level <level>",
    env: "LLM_TWIN_LOG_LEVEL",
    schema: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]),
    default: "info",
    help: "fatal|error|warn|info|debug|trace|silent",
  },
  {
    key: "loras",
    flag: "--lora <name=path.gguf[:scale]>",
    env: "LLM_TWIN_LORA",
    schema: z.array(z.string()).default([]),
    repeatable: true,
    defaultText: "none",
    help: "LoRA adapter for the native engine, selected per request by TGI parameters.adapter_id or OpenAI model; the path may be registry:<name>@<version|stage> (repeatable; the variable: comma-separated)",
  },
  // TGI's watermark (issue 15 item 4): applied to requests with parameters.watermark: true.
  {
    key: "watermarkGamma",
    flag: "--watermark-gamma <fraction>",
    env: "LLM_TWIN_WATERMARK_GAMMA",
    alsoEnv: "WATERMARK_GAMMA",
    // No commander default, so that TGI's WATERMARK_GAMMA applies when neither is set (as --port).
    schema: z.coerce.number().gt(0).lt(1).default(DEFAULT_WATERMARK_GAMMA),
    defaultText: String(DEFAULT_WATERMARK_GAMMA),
    help: "fraction of the vocabulary in the watermark's green list after each token (0 < g < 1), for TGI requests with parameters.watermark: true; check text with llm-twin watermark-detect --gamma <same> (also TGI's WATERMARK_GAMMA)",
  },
  {
    key: "watermarkDelta",
    flag: "--watermark-delta <logit>",
    env: "LLM_TWIN_WATERMARK_DELTA",
    alsoEnv: "WATERMARK_DELTA",
    schema: z.coerce.number().min(0).default(DEFAULT_WATERMARK_DELTA),
    defaultText: String(DEFAULT_WATERMARK_DELTA),
    help: "added to the logit of every green-list token when a TGI request sets parameters.watermark: true (≥ 0; also TGI's WATERMARK_DELTA)",
  },
  // Model registry (issue 18): where registry: sources are read, and whether a registry base
  // model brings its production adapters.
  {
    key: "registry",
    flag: "--registry <dir|s3://bucket/prefix>",
    env: "LLM_TWIN_REGISTRY",
    schema: z.string().min(1).optional(),
    defaultText: "<cache dir>/registry",
    help: "the model registry that registry:<name>@<version|stage> sources are read from (POST /admin/reload reads it again)",
  },
  {
    key: "registryAdapters",
    flag: "--registry-adapters <mode>",
    env: "LLM_TWIN_REGISTRY_ADAPTERS",
    schema: z.enum(["production", "off"]),
    default: "production",
    help: "production|off: with --model registry:<name>@..., load the adapters registered for that base at stage production as LoRA adapters named by their registry names",
  },
  // /v1/embeddings (issue 15 item 3): a GGUF embedding model beside the generation model.
  {
    key: "embeddingModel",
    flag: "--embedding-model <source>",
    env: "LLM_TWIN_EMBEDDING_MODEL",
    schema: z.string().min(1).optional(),
    defaultText: "none",
    help: "GGUF embedding model (path, http(s) URL, hf: or registry:<name>@<version|stage>, read from --registry) served at POST /v1/embeddings; without it /v1/embeddings is 404",
  },
  {
    key: "embeddingMaxInputs",
    flag: "--embedding-max-inputs <n>",
    env: "LLM_TWIN_EMBEDDING_MAX_INPUTS",
    schema: positiveInt,
    default: "64",
    help: "inputs per /v1/embeddings request (422 beyond)",
  },
  {
    key: "embeddingMaxInputTokens",
    flag: "--embedding-max-input-tokens <n>",
    env: "LLM_TWIN_EMBEDDING_MAX_INPUT_TOKENS",
    // Unset: the embedding model's context − 1.
    schema: positiveInt.optional(),
    defaultText: "the embedding model's context − 1",
    help: "tokens per embedding input (422 beyond, never truncated); at most the embedding model's context − 1, a larger value is lowered to it (/info shows the one in force)",
  },
] as const satisfies readonly Setting[];
