/**
 * `llm-twin serve-rag`: the RAG service as its own process, talking to the LLM service over HTTP
 * (TGI API by default; several --llm-url values are load-balanced). Composition root: builds the
 * store, embedder, LLM client and optional reranker from validated flags, then runs the service.
 */
import { type Command, Option } from "commander";
import { AppError } from "../../errors/index.js";
import type { PromptLimit } from "../../rag/retrieve.js";
import { acquire } from "../../runtime/index.js";
import { addRagServiceOptions } from "../rag-service-options.js";

const DEFAULT_LLM_URL = "http://localhost:8080";

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

export function registerServeRagCommand(program: Command): void {
  const command = program
    .command("serve-rag")
    .description("Run the RAG service (business microservice) against a separate LLM service")
    .addOption(
      new Option(
        "--llm-url <url>",
        `LLM service URL (TGI API; openai:<url> or sagemaker:<endpoint> also work); repeat, or comma-separate in the variable, for several replicas behind a load balancer (default: ${DEFAULT_LLM_URL})`,
      )
        .env("LLM_TWIN_LLM_URL")
        .argParser(collect)
        .default(undefined, DEFAULT_LLM_URL),
    )
    .addOption(
      new Option("--llm-api <api>", "API of plain http(s) LLM URLs")
        .choices(["tgi", "openai"])
        .env("LLM_TWIN_LLM_API")
        .default("tgi"),
    );
  addRagServiceOptions(command);
  command.action(async (raw: Record<string, unknown>) => {
    // Loaded here, not at the top: `--help` must not pay for LanceDB, Fastify and the clients.
    const [
      { parseRagServiceSettings },
      { openVectorStore },
      { createEmbedder },
      { createLanguageModelFromUrl },
      { loadReranker },
      { closeOnSignals, runRagService },
      { assertPortFree },
    ] = await Promise.all([
      import("../../rag/service/settings.js"),
      import("../../vector-store/index.js"),
      import("../../embedding/index.js"),
      import("../../llm/clients/index.js"),
      import("../../rag/service/reranker.js"),
      import("../../rag/service/run.js"),
      import("../../observability/http/port.js"),
    ]);
    const settings = parseRagServiceSettings(raw);
    const urls = normalizeUrls(raw.llmUrl);
    process.env.LANCEDB_LOG ??= "error";
    // A port in use is one line now, not a stack trace once everything has loaded.
    await assertPortFree(settings.host, settings.port);
    // Released in reverse order of creation, also when start-up fails half-way (src/runtime).
    const { value, stack } = await acquire(async (resources) => {
      const store = resources.use("the vector store", await openVectorStore(settings.store));
      // With --embedder auto, a store keeps the embedder it was built with.
      const storeEmbedderId = (await store.readMetadata())?.fingerprint.embedder.id;
      const embedder = resources.use(
        "the embedder",
        await createEmbedder(settings.embedder, {
          ...(settings.cacheDir === undefined ? {} : { cacheDir: settings.cacheDir }),
          ...(settings.registry === undefined ? {} : { registry: settings.registry }),
          ...(storeEmbedderId === undefined ? {} : { storeEmbedderId }),
          http: { timeoutMs: settings.embedderRequestTimeoutMs, retries: settings.embedderRetries },
        }),
      );
      const llm = resources.use(
        "the LLM client",
        createLanguageModelFromUrl(urls.join(","), {
          api: raw.llmApi === "openai" ? "openai" : "tgi",
          timeoutMs: settings.llmTimeoutMs,
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
    const promptLimit = await learnPromptLimit(urls, raw.llmApi, settings.readyTimeoutMs);
    const adapters = await adapterRouter(urls, settings, llm.id);
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
    closeOnSignals(service, (message) => process.stderr.write(`llm-twin serve-rag: ${message}\n`));
  });
}

/** The smallest input limit among the TGI replicas that answer /info (best effort: none is fine). */
async function learnPromptLimit(
  urls: readonly string[],
  api: unknown,
  timeoutMs: number,
): Promise<PromptLimit | undefined> {
  if (api === "openai") return undefined;
  const { lateLearnedPromptLimit, readTgiPromptLimit } = await import("../../rag/service/llm-limits.js");
  const learn = async (): Promise<PromptLimit | undefined> => {
    const limits = await Promise.all(urls.map((url) => readTgiPromptLimit(url, timeoutMs).catch(() => undefined)));
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
) {
  const first = urls[0];
  if (settings.adapterRouting === "off" || first === undefined || first.startsWith("sagemaker:")) return undefined;
  const { createHttpAdapterRouter } = await import("../../rag/adapter-routing.js");
  const router = createHttpAdapterRouter({
    url: first.replace(/^openai:/, ""),
    refreshMs: settings.adapterRefreshMs,
    timeoutMs: settings.readyTimeoutMs,
    fallbackModel,
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
