/**
 * `llm-twin serve-llm`: the LLM microservice (TGI, OpenAI and SageMaker APIs over llama.cpp).
 * Every flag has an environment variable; SageMaker's SAGEMAKER_BIND_TO_PORT is honoured and,
 * without --model, the first .gguf file in /opt/ml/model is served.
 */
import os from "node:os";
import { type Command, Option } from "commander";
import { parseLlmServerConfig } from "../../llm-server/config.js";
import { handleShutdownSignals } from "../../runtime/index.js";

type Flag = { flags: string; description: string; env: string; defaultValue?: string; defaultDescription?: string };

const FLAGS: Flag[] = [
  {
    flags: "--model <source>",
    description:
      "GGUF model: a path, an http(s) URL, hf:<user>/<repo>[:<quant>] or registry:<name>@<version|stage> (the model registry; its production adapters load too)",
    env: "LLM_TWIN_MODEL",
    defaultDescription: "the .gguf in /opt/ml/model",
  },
  {
    flags: "--model-id <id>",
    description: "model id reported to clients",
    env: "LLM_TWIN_MODEL_ID",
    defaultDescription: "file name",
  },
  {
    flags: "--host <host>",
    description:
      "address to listen on; the default 0.0.0.0 accepts connections on every network interface of this machine (anyone who can reach it can generate unless --api-keys is set; use 127.0.0.1 for this machine only)",
    env: "LLM_TWIN_HOST",
    defaultValue: "0.0.0.0",
  },
  {
    flags: "--port <port>",
    description: "port to listen on (also SAGEMAKER_BIND_TO_PORT)",
    env: "LLM_TWIN_PORT",
    defaultDescription: "8080",
  },
  {
    flags: "--parallel <n>",
    description: "context sequences decoded together (continuous batching)",
    env: "LLM_TWIN_PARALLEL",
    defaultValue: "4",
  },
  {
    flags: "--engine <engine>",
    description:
      "who decodes and samples: native (the addon built by npm run build:native: every sequence on one native thread, like llama-server) or node-llama-cpp",
    env: "LLM_TWIN_ENGINE",
    defaultDescription: "native when built, else node-llama-cpp",
  },
  {
    flags: "--threads <n>",
    description:
      "llama.cpp threads for one-token decodes (one sequence generating); also the default of --threads-batch",
    env: "LLM_TWIN_THREADS",
    defaultDescription: `every core (${os.availableParallelism()}) with a build of llama.cpp for this machine (npm run build:llama, OpenMP), else cores − 1 (${Math.max(1, os.availableParallelism() - 1)})`,
  },
  {
    flags: "--threads-batch <n>",
    description:
      "llama.cpp threads for prompts and decodes of several sequences (native engine; node-llama-cpp uses --threads for all)",
    env: "LLM_TWIN_THREADS_BATCH",
    defaultDescription: `--threads when given, else every core (${os.availableParallelism()})`,
  },
  {
    flags: "--batch-size <n>",
    description: "tokens per llama.cpp decode call",
    env: "LLM_TWIN_BATCH_SIZE",
    defaultValue: "512",
  },
  {
    flags: "--flash-attention <mode>",
    description: "llama.cpp flash attention: auto|on|off (auto = on where supported; less CPU per token)",
    env: "LLM_TWIN_FLASH_ATTENTION",
    defaultValue: "auto",
  },
  {
    flags: "--prompt-cache <mode>",
    description:
      "on|off: reuse the KV of the longest prompt prefix a sequence already holds (per request: cache_prompt: false)",
    env: "LLM_TWIN_PROMPT_CACHE",
    defaultValue: "on",
  },
  {
    flags: "--max-n <n>",
    description:
      "most sequences one request may ask for (OpenAI n, TGI best_of); each takes a parallel sequence, so also at most --parallel",
    env: "LLM_TWIN_MAX_N",
    defaultValue: "8",
  },
  {
    flags: "--lora-contexts <n>",
    description:
      "llama.cpp contexts (each with its own KV memory) in which requests for different LoRA adapters decode concurrently; more adapter sets in use take turns",
    env: "LLM_TWIN_LORA_CONTEXTS",
    defaultDescription: "2 with --lora, else 1",
  },
  {
    flags: "--context-size <n>",
    description: "context tokens per sequence",
    env: "LLM_TWIN_CONTEXT_SIZE",
    defaultDescription: "max total tokens",
  },
  {
    flags: "--max-concurrent-requests <n>",
    description: "running + waiting requests; beyond it 429",
    env: "LLM_TWIN_MAX_CONCURRENT_REQUESTS",
    defaultDescription: "parallel + max queue",
  },
  {
    flags: "--max-queue <n>",
    description: "requests waiting for a free sequence",
    env: "LLM_TWIN_MAX_QUEUE",
    defaultDescription: "parallel",
  },
  {
    flags: "--max-input-tokens <n>",
    description: "prompt tokens per request",
    env: "LLM_TWIN_MAX_INPUT_TOKENS",
    defaultDescription: "min(1024, max total - 1)",
  },
  {
    flags: "--max-total-tokens <n>",
    description: "prompt + max_new_tokens per request",
    env: "LLM_TWIN_MAX_TOTAL_TOKENS",
    defaultDescription: "min(2048, model's context)",
  },
  {
    flags: "--max-new-tokens <n>",
    description: "largest max_new_tokens accepted",
    env: "LLM_TWIN_MAX_NEW_TOKENS",
    defaultDescription: "max total - 1",
  },
  {
    flags: "--request-timeout <seconds>",
    description: "per-request timeout, queue wait included (0 = none)",
    env: "LLM_TWIN_REQUEST_TIMEOUT",
    defaultValue: "60",
  },
  {
    flags: "--body-limit <bytes>",
    description: "largest request body",
    env: "LLM_TWIN_BODY_LIMIT",
    defaultValue: "1048576",
  },
  {
    flags: "--api-keys <keys>",
    description:
      "comma-separated bearer keys: every route but /health and /ping then needs 'Authorization: Bearer <key>' (vLLM's --api-key); empty = no authentication",
    env: "LLM_TWIN_API_KEYS",
    defaultDescription: "none",
  },
  {
    flags: "--auth-failure-limit <n>",
    description: "failed API-key checks per client address per window before 429; 0 = unlimited",
    env: "LLM_TWIN_AUTH_FAILURE_LIMIT",
    defaultValue: "10",
  },
  {
    flags: "--auth-failure-window-ms <ms>",
    description: "window of --auth-failure-limit",
    env: "LLM_TWIN_AUTH_FAILURE_WINDOW_MS",
    defaultValue: "60000",
  },
  {
    flags: "--headers-timeout-ms <ms>",
    description: "time a client has to send the request headers (408 beyond)",
    env: "LLM_TWIN_HEADERS_TIMEOUT_MS",
    defaultValue: "10000",
  },
  {
    flags: "--receive-timeout-ms <ms>",
    description: "time a client has to send the whole request, body included (408 beyond)",
    env: "LLM_TWIN_RECEIVE_TIMEOUT_MS",
    defaultValue: "30000",
  },
  {
    flags: "--keep-alive-timeout-ms <ms>",
    description: "how long an idle keep-alive connection stays open",
    env: "LLM_TWIN_KEEP_ALIVE_TIMEOUT_MS",
    defaultValue: "72000",
  },
  {
    flags: "--grace-period <seconds>",
    description: "time in-flight requests get to finish on SIGTERM (< 30)",
    env: "LLM_TWIN_GRACE_PERIOD",
    defaultValue: "25",
  },
  {
    flags: "--cache-dir <dir>",
    description: "where downloaded models are kept",
    env: "LLM_TWIN_CACHE_DIR",
    defaultDescription: "~/.cache/llm-twin",
  },
  {
    flags: "--log-level <level>",
    description: "fatal|error|warn|info|debug|trace|silent",
    env: "LLM_TWIN_LOG_LEVEL",
    defaultValue: "info",
  },
  // Model registry (issue 18).
  {
    flags: "--registry <dir|s3://bucket/prefix>",
    description: "the model registry registry: sources are read from (POST /admin/reload reads it again)",
    env: "LLM_TWIN_REGISTRY",
    defaultDescription: "<cache dir>/registry",
  },
  {
    flags: "--registry-adapters <mode>",
    description:
      "production|off: with --model registry:<name>@..., load the adapters registered for that base at stage production as LoRA adapters named by their registry names",
    env: "LLM_TWIN_REGISTRY_ADAPTERS",
    defaultValue: "production",
  },
  // /v1/embeddings (issue 15 item 3).
  {
    flags: "--embedding-model <source>",
    description:
      "GGUF embedding model (path, http(s) URL or hf:) served at POST /v1/embeddings; without it /v1/embeddings is 404",
    env: "LLM_TWIN_EMBEDDING_MODEL",
    defaultDescription: "none",
  },
  {
    flags: "--embedding-max-inputs <n>",
    description: "inputs per /v1/embeddings request (422 beyond)",
    env: "LLM_TWIN_EMBEDDING_MAX_INPUTS",
    defaultValue: "64",
  },
  {
    flags: "--embedding-max-input-tokens <n>",
    description: "tokens per embedding input (422 beyond, never truncated)",
    env: "LLM_TWIN_EMBEDDING_MAX_INPUT_TOKENS",
    defaultDescription: "the embedding model's context − 1",
  },
];

export function registerServeLlmCommand(program: Command): void {
  const command = program
    .command("serve-llm")
    .description("Serve a GGUF model over the TGI, OpenAI and SageMaker APIs with continuous batching");
  for (const flag of FLAGS) {
    const description =
      flag.defaultDescription === undefined
        ? flag.description
        : `${flag.description} (default: ${flag.defaultDescription})`;
    const option = new Option(flag.flags, description).env(flag.env);
    if (flag.defaultValue !== undefined) option.default(flag.defaultValue);
    command.addOption(option);
  }
  command.addOption(
    new Option(
      "--lora <name=path.gguf[:scale]>",
      "LoRA adapter for the native engine, selected per request by TGI parameters.adapter_id or OpenAI model; the path may be registry:<name>@<version|stage> (repeatable; env: comma-separated)",
    )
      .env("LLM_TWIN_LORA")
      .argParser((value: string, previous: string[] | undefined) => [
        ...(previous ?? []),
        ...value.split(",").filter((part) => part.trim() !== ""),
      ]),
  );
  command.action(async (flags: Record<string, string | undefined> & { lora?: string[] }) => {
    const config = parseLlmServerConfig({
      model: flags.model,
      modelId: flags.modelId,
      host: flags.host,
      port: flags.port ?? process.env.SAGEMAKER_BIND_TO_PORT,
      parallel: flags.parallel,
      engine: flags.engine,
      threads: flags.threads,
      threadsBatch: flags.threadsBatch,
      batchSize: flags.batchSize,
      flashAttention: flags.flashAttention,
      promptCache: flags.promptCache,
      maxN: flags.maxN,
      loras: flags.lora,
      loraContexts: flags.loraContexts,
      contextSize: flags.contextSize,
      maxConcurrentRequests: flags.maxConcurrentRequests,
      maxQueue: flags.maxQueue,
      maxInputTokens: flags.maxInputTokens,
      maxTotalTokens: flags.maxTotalTokens,
      maxNewTokens: flags.maxNewTokens,
      requestTimeoutSeconds: flags.requestTimeout,
      bodyLimitBytes: flags.bodyLimit,
      apiKeys: flags.apiKeys,
      authFailureLimit: flags.authFailureLimit,
      authFailureWindowMs: flags.authFailureWindowMs,
      headersTimeoutMs: flags.headersTimeoutMs,
      receiveTimeoutMs: flags.receiveTimeoutMs,
      keepAliveTimeoutMs: flags.keepAliveTimeoutMs,
      gracePeriodSeconds: flags.gracePeriod,
      cacheDir: flags.cacheDir,
      logLevel: flags.logLevel,
      registry: flags.registry,
      registryAdapters: flags.registryAdapters,
      embeddingModel: flags.embeddingModel,
      embeddingMaxInputs: flags.embeddingMaxInputs,
      embeddingMaxInputTokens: flags.embeddingMaxInputTokens,
    });
    // Started before the rest: node-llama-cpp tests its prebuilt binary in a child process before
    // loading it, a wait that now overlaps the imports below (src/llm/llama-cpp/shared-llama.ts).
    const llamaStarted = import("../../llm/llama-cpp/shared-llama.js").then(({ startLlama }) => startLlama());
    // Loaded here, not at import: llama.cpp and Fastify are not needed by the other commands.
    const [{ startLlmServer }] = await Promise.all([import("../../llm-server/server.js"), llamaStarted]);
    const starting = startLlmServer(config, { progressStream: process.stderr });
    // Installed before the server is up: a signal during start-up also shuts down gracefully. Bounded
    // by --grace-period inside shutdown(); a second signal exits at once (src/runtime).
    const stopHandlingSignals = handleShutdownSignals({
      name: "llm-twin serve-llm",
      shutdown: async (signal) => (await starting.catch(() => undefined))?.shutdown(signal),
    });
    try {
      const server = await starting;
      try {
        await Promise.all([server.ready, server.embeddingsReady]);
      } catch (error) {
        await server.shutdown("model failed to load");
        throw error;
      }
    } catch (error) {
      stopHandlingSignals();
      throw error;
    }
    // Keeps serving until a signal arrives.
    await new Promise<never>(() => undefined);
  });
}
