/**
 * `llm-twin serve-rag`: the RAG service as its own process, talking to the LLM service over HTTP
 * (TGI API by default; several --llm-url values are load-balanced). Composition root: builds the
 * store, embedder, LLM client and optional reranker from validated flags, then runs the service.
 */
import type { Command } from "commander";
import { z } from "zod";
import { parseSettingValues, type Setting } from "../../config/settings.js";
import { AppError } from "../../errors/index.js";
import type { PromptLimit } from "../../rag/retrieve.js";
import { acquire } from "../../runtime/index.js";
import { VECTOR_STORE_SETTINGS, vectorStoreOptions } from "../../vector-store/settings.js";
import { addRagServiceOptions } from "../rag-service-options.js";
import { addSettingOptions } from "../settings-options.js";

const DEFAULT_LLM_URL = "http://localhost:8080";

/** `serve-rag`'s own settings (src/config/settings.ts), before the RAG service's. */
export const SERVE_RAG_SETTINGS = [
  {
    key: "llmUrl",
    flag: "--llm-url <url>",
    env: "LLM_TWIN_LLM_URL",
    schema: z.array(z.string()).optional(),
    repeatable: true,
    defaultText: DEFAULT_LLM_URL,
    help: "LLM service URL (TGI API; openai:<url> or sagemaker:<endpoint> also work); repeat, or comma-separate in the variable, for several replicas behind a load balancer",
  },
  {
    key: "llmApi",
    flag: "--llm-api <api>",
    env: "LLM_TWIN_LLM_API",
    schema: z.enum(["tgi", "openai"]),
    default: "tgi",
    choices: ["tgi", "openai"],
    help: "API of plain http(s) LLM URLs",
  },
  {
    key: "llmApiKey",
    flag: "--llm-api-key <key>",
    env: "LLM_TWIN_LLM_API_KEY",
    schema: z.string().optional(),
    help: "bearer key sent to the LLM service on every call (one of serve-llm's --api-keys; OpenAI-compatible servers' key)",
  },
] as const satisfies readonly Setting[];

export function registerServeRagCommand(program: Command): void {
  const command = program
    .command("serve-rag")
    .description("Run the RAG service (business microservice) against a separate LLM service");
  addSettingOptions(command, SERVE_RAG_SETTINGS);
  addRagServiceOptions(command);
  addSettingOptions(command, VECTOR_STORE_SETTINGS);
  command.action(async (raw: Record<string, unknown>) => {
    // Loaded here, not at the top: `--help` must not pay for LanceDB, Fastify and the clients.
    const [
      { parseRagServiceSettings },
      { openStoreAndEmbedder },
      { createLanguageModelFromUrl },
      { loadReranker },
      { closeOnSignals, runRagService },
      { assertPortFree },
    ] = await Promise.all([
      import("../../rag/service/settings.js"),
      import("../../rag/service/open-store.js"),
      import("../../llm/clients/index.js"),
      import("../../rag/service/reranker.js"),
      import("../../rag/service/run.js"),
      import("../../observability/http/port.js"),
    ]);
    const settings = parseRagServiceSettings(raw);
    const own = parseSettingValues(SERVE_RAG_SETTINGS, raw);
    const urls = normalizeUrls(own.llmUrl);
    const { fetchWithBearer } = await import("../../rag/service/llm-limits.js");
    // Every call to the LLM service carries the key: generation, /info, the tokenizer probe, /v1/models.
    const llmFetch = fetchWithBearer(own.llmApiKey);
    process.env.LANCEDB_LOG ??= "error";
    // A port in use is one line now, not a stack trace once everything has loaded.
    await assertPortFree(settings.host, settings.port);
    // Released in reverse order of creation, also when start-up fails half-way (src/runtime).
    const { value, stack } = await acquire(async (resources) => {
      const storeOptions = vectorStoreOptions(parseSettingValues(VECTOR_STORE_SETTINGS, raw));
      const { store, embedder } = await openStoreAndEmbedder(resources, settings, storeOptions);
      const llm = resources.use(
        "the LLM client",
        createLanguageModelFromUrl(urls.join(","), {
          api: own.llmApi,
          timeoutMs: settings.llmTimeoutMs,
          fetch: llmFetch,
        }),
      );
      const reranker =
        settings.reranker === undefined
          ? undefined
          : resources.use(
              "the reranker",
              await loadReranker(
                settings.reranker,
                settings.cacheDir,
                settings.registry === undefined ? {} : { registry: settings.registry },
              ),
            );
      return { store, embedder, llm, reranker };
    });
    const { store, embedder, llm, reranker } = value;
    const promptLimit = await learnPromptLimit(urls, own.llmApi, settings.readyTimeoutMs, llmFetch);
    const adapters = await adapterRouter(urls, settings, llm.id, llmFetch);
    const service = await runRagService({
      settings,
      store,
      embedder,
      llm,
      ...(promptLimit === undefined ? {} : { promptLimit }),
      ...(reranker === undefined ? {} : { reranker }),
      ...(adapters === undefined ? {} : { adapters }),
      disposeResources: () => stack.disposeAsync(),
    });
    process.stderr.write(
      `llm-twin serve-rag: listening on ${service.url} (LLM: ${urls.join(", ")}; store: ${store.location})\n`,
    );
    closeOnSignals(service, (message) => process.stderr.write(`llm-twin serve-rag: ${message}\n`), settings);
  });
}

/** The smallest input limit among the TGI replicas that answer /info (best effort: none is fine). */
async function learnPromptLimit(
  urls: readonly string[],
  api: unknown,
  timeoutMs: number,
  fetcher: typeof fetch,
): Promise<PromptLimit | undefined> {
  if (api === "openai") return undefined;
  const { lateLearnedPromptLimit, readTgiPromptLimit } = await import("../../rag/service/llm-limits.js");
  const learn = async (): Promise<PromptLimit | undefined> => {
    const limits = await Promise.all(
      urls.map((url) => readTgiPromptLimit(url, timeoutMs, fetcher).catch(() => undefined)),
    );
    const known = limits.filter((limit): limit is PromptLimit => limit !== undefined);
    if (known.length === 0) return undefined;
    return known.reduce((smallest, limit) => (limit.maxInputTokens < smallest.maxInputTokens ? limit : smallest));
  };
  const limit = await learn();
  if (limit !== undefined) return limit;
  process.stderr.write(
    `llm-twin serve-rag: the LLM's input limits are unknown (no /info yet): asked again before requests, at most every ${LIMIT_RETRY_MS / 1000} s; until then the context budget is --context-tokens alone\n`,
  );
  return lateLearnedPromptLimit(learn, LIMIT_RETRY_MS);
}

const LIMIT_RETRY_MS = 5_000;

/**
 * Adapter routing in split mode: the adapters of the LLM service (serve-llm's /v1/models, each
 * with its author), read from the first URL (replicas serve the same registry) and refreshed in
 * the background. None for SageMaker endpoints (no model list to read).
 */
async function adapterRouter(
  urls: readonly string[],
  settings: { adapterRouting: "on" | "off"; adapterRefreshMs: number; readyTimeoutMs: number },
  fallbackModel: string,
  fetcher: typeof fetch,
) {
  const first = urls[0];
  if (settings.adapterRouting === "off" || first === undefined || first.startsWith("sagemaker:")) return undefined;
  const { createHttpAdapterRouter } = await import("../../rag/adapter-routing.js");
  const router = createHttpAdapterRouter({
    url: first.replace(/^openai:/, ""),
    refreshMs: settings.adapterRefreshMs,
    timeoutMs: settings.readyTimeoutMs,
    fallbackModel,
    fetch: fetcher,
    warn: (message) => process.stderr.write(`llm-twin serve-rag: ${message}\n`),
  });
  // The first read before listening (bounded by --ready-timeout-ms), so the first requests route.
  await router.firstRead;
  return router;
}

function normalizeUrls(value: unknown): string[] {
  const list = Array.isArray(value) ? value : typeof value === "string" ? [value] : [DEFAULT_LLM_URL];
  const urls = list
    .flatMap((item) => String(item).split(","))
    .map((item) => item.trim())
    .filter((item) => item !== "");
  if (urls.length === 0) throw new AppError("configuration_error", "--llm-url (LLM_TWIN_LLM_URL): no URL given");
  return urls;
}
