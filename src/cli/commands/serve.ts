/**
 * `llm-twin serve`: everything in one process — the RAG service, the LLM on in-process llama.cpp
 * and the embedded LanceDB store. On first start an empty store is filled from the project's
 * sample corpus. Without --model the default small instruct GGUF is downloaded (with progress)
 * into the cache; offline, --model / LLM_TWIN_MODEL points at a local GGUF.
 */
import { resolve } from "node:path";
import type { Command } from "commander";
import { z } from "zod";
import { projectRoot } from "../../config/paths.js";
import { parseSettingValues, type Setting, schemas } from "../../config/settings.js";
import { AppError, isAppError } from "../../errors/index.js";
import { DEMO_MODEL, DEMO_MODEL_WARNING, demoModelPath } from "../../llm/demo-model.js";
import { ENGINE_BACKENDS } from "../../llm/llama-cpp/decode-port.js";
import type { LlamaCppEngineOptions, LlamaCppLanguageModel } from "../../llm/llama-cpp/index.js";
import { acquire, type ResourceStack } from "../../runtime/index.js";
import { VECTOR_STORE_SETTINGS, vectorStoreOptions } from "../../vector-store/settings.js";
import { addRagServiceOptions } from "../rag-service-options.js";
import { addSettingOptions } from "../settings-options.js";

/** A small instruct model: ~400 MB at Q4_K_M, fine on 2 CPU cores. */
export const DEFAULT_SERVE_MODEL = "hf:Qwen/Qwen2.5-0.5B-Instruct-GGUF:Q4_K_M";
export const DEFAULT_SAMPLE_DATA = resolve(projectRoot, "sample-data");

/** `serve`'s own settings (src/config/settings.ts), before the RAG service's. */
export const SERVE_SETTINGS = [
  {
    key: "model",
    flag: "--model <source>",
    env: "LLM_TWIN_MODEL",
    schema: z.string().min(1),
    help: `GGUF model: path, http(s) URL, hf:<user>/<repo>[:<quant>], registry:<name>@<version|stage> (the model registry, see --registry; its production adapters load too), or "${DEMO_MODEL}" (offline random-weight demo)`,
    default: DEFAULT_SERVE_MODEL,
  },
  // Model registry (issue 18).
  {
    key: "registryAdapters",
    flag: "--registry-adapters <mode>",
    env: "LLM_TWIN_REGISTRY_ADAPTERS",
    schema: z.enum(["production", "off"]),
    help: "production | off: with --model registry:<name>@..., load the adapters registered for that base at stage production as LoRA adapters (named by their registry names)",
    default: "production",
  },
  {
    key: "threads",
    flag: "--threads <n>",
    env: "LLM_TWIN_THREADS",
    schema: schemas.positiveInteger.optional(),
    help: "llama.cpp threads for one-token decodes",
    defaultText: "every core with a build of llama.cpp for this machine (npm run build:llama), else cores − 1",
  },
  {
    key: "threadsBatch",
    flag: "--threads-batch <n>",
    env: "LLM_TWIN_THREADS_BATCH",
    schema: schemas.positiveInteger.optional(),
    help: "llama.cpp threads for prompts and multi-sequence decodes, native engine",
    defaultText: "--threads when given, else every core",
  },
  {
    key: "engine",
    flag: "--engine <engine>",
    env: "LLM_TWIN_ENGINE",
    schema: z.enum(ENGINE_BACKENDS, { error: "expected native or node-llama-cpp" }).optional(),
    help: "who decodes and samples: native (npm run build:native; every sequence on one native thread) or node-llama-cpp",
    defaultText: "native when built, else node-llama-cpp",
  },
  {
    key: "parallel",
    flag: "--parallel <n>",
    env: "LLM_TWIN_PARALLEL",
    schema: schemas.positiveInteger,
    help: "sequences decoded together",
    default: "2",
  },
  {
    key: "sampleData",
    flag: "--sample-data <path>",
    env: "LLM_TWIN_SAMPLE_DATA",
    schema: z.string().min(1),
    help: "documents ingested on first start when the store is empty",
    default: DEFAULT_SAMPLE_DATA,
    defaultText: "the project's sample-data/",
  },
] as const satisfies readonly Setting[];

/** `serve`'s switches, after the RAG service's settings (their variable set to anything turns them on). */
export const SERVE_SWITCHES = [
  {
    key: "ingest",
    flag: "--no-ingest",
    env: "LLM_TWIN_NO_INGEST",
    schema: z.boolean().optional(),
    defaultText: "ingest into an empty store",
    help: "do not ingest the sample corpus into an empty store",
  },
  {
    key: "demoFallback",
    flag: "--no-demo-fallback",
    env: "LLM_TWIN_NO_DEMO_FALLBACK",
    schema: z.boolean().optional(),
    defaultText: "fall back",
    help: "fail instead of serving the offline demo model when the default model cannot be downloaded",
  },
] as const satisfies readonly Setting[];

export function registerServeCommand(program: Command): void {
  const command = program
    .command("serve")
    .description("Run everything in one process: RAG service + in-process LLM (llama.cpp) + embedded store");
  addSettingOptions(command, SERVE_SETTINGS);
  addRagServiceOptions(command);
  addSettingOptions(command, VECTOR_STORE_SETTINGS);
  addSettingOptions(command, SERVE_SWITCHES);
  command.action(async (raw: Record<string, unknown>) => {
    // First thing: node-llama-cpp tests its prebuilt binary in a child process before loading it,
    // a wait that now overlaps the imports, the store and the embedder below (shared-llama.ts).
    // Alone: other imports started beside it would delay the fork (docs/benchmarks.md, start-up).
    await (await import("../../llm/llama-cpp/shared-llama.js")).startLlama();
    // Loaded here, not at the top: `--help` must not pay for llama.cpp, LanceDB and Fastify. The
    // store's and the HTTP app's modules are imported where they are used, the app's while the model loads.
    const [
      { parseRagServiceSettings },
      { createLlamaCppLanguageModel, describeEngineForLog, describeForLog },
      { assertPortFree },
    ] = await Promise.all([
      import("../../rag/service/settings.js"),
      import("../../llm/llama-cpp/index.js"),
      import("../../observability/http/port.js"),
    ]);
    const settings = parseRagServiceSettings(raw);
    const {
      threads,
      threadsBatch,
      parallel,
      engine,
      model,
      registryAdapters,
      sampleData,
      ingest: ingestEmpty,
      demoFallback,
    } = parseSettingValues([...SERVE_SETTINGS, ...SERVE_SWITCHES], raw);
    const log = (message: string) => process.stderr.write(`llm-twin serve: ${message}\n`);
    process.env.LANCEDB_LOG ??= "error";

    let demoModel = false;
    // A port in use is one line now, not a stack trace once everything has loaded.
    await assertPortFree(settings.host, settings.port);
    // Released in reverse order of creation, also when start-up fails half-way (src/runtime).
    const { value, stack } = await acquire(async (resources) => {
      // The model first: a failed download should not wait for (or follow) anything else.
      const engineOptions = {
        parallel,
        requestTimeoutMs: settings.llmTimeoutMs,
        ...(threads === undefined ? {} : { threads }),
        ...(threadsBatch === undefined ? {} : { threadsBatch }),
        ...(engine === undefined ? {} : { backend: engine }),
      };
      // registry:<name>@<version|stage>: the base, its production adapters, and POST /admin/reload.
      const registryModel = model.startsWith("registry:")
        ? await (await import("../../rag/service/registry-model.js")).startRegistryModel({
            model,
            productionAdapters: registryAdapters !== "off",
            ...(settings.cacheDir === undefined ? {} : { cacheDir: settings.cacheDir }),
            ...(settings.registry === undefined ? {} : { registry: settings.registry }),
            engine: engineOptions,
            log,
          })
        : undefined;
      if (registryModel !== undefined) resources.use("the language model", registryModel.llm);
      const resolved =
        registryModel === undefined
          ? await resolveServeModel(model, settings.cacheDir, demoFallback !== false, log)
          : undefined;
      demoModel = resolved?.demo ?? false;
      const storeOptions = vectorStoreOptions(parseSettingValues(VECTOR_STORE_SETTINGS, raw));
      const { emptyStoreWithoutIngestError, openStoreAndEmbedder } = await import("../../rag/service/open-store.js");
      const { store, embedder, storeEmbedderId } = await openStoreAndEmbedder(resources, settings, storeOptions, log);
      // No metadata: an empty store, refused now rather than once the model has loaded.
      if (storeEmbedderId === undefined && ingestEmpty === false) throw emptyStoreWithoutIngestError(store.location);
      if (storeEmbedderId === undefined && (await store.count()) === 0 && ingestEmpty !== false) {
        log(`the store at ${store.location} is empty: ingesting ${sampleData} first`);
        const { formatIngestSummary, ingest } = await import("../../ingestion/index.js");
        const summary = await ingest({ source: sampleData, store, embedder });
        process.stderr.write(`${formatIngestSummary(summary)}\n`);
      }
      if (resolved !== undefined) log(`loading ${resolved.path} (parallel ${parallel})`);
      // The model loads on llama.cpp's threads while this thread imports the HTTP app and loads what
      // building it needs; the app is built once the model is ready.
      const loadingModel =
        registryModel === undefined
          ? loadInBackground(resources, createLlamaCppLanguageModel, resolved?.path ?? "", engineOptions)
          : Promise.resolve(registryModel.llm);
      let modelSettled = false;
      loadingModel.then(
        () => (modelSettled = true),
        () => (modelSettled = true),
      );
      const [service, { loadReranker }, { warmUpRagApp }] = await Promise.all([
        import("../../rag/service/run.js"),
        import("../../rag/service/reranker.js"),
        import("../../rag/http/warm-up.js"),
      ]);
      // Still loading: meanwhile this thread loads what building the app needs (rag/http/warm-up.ts).
      if (!modelSettled) await warmUpRagApp();
      const llm = await loadingModel;
      const info = llm.engine.info;
      log(
        `model ready: threads ${info.threads} (batches ${info.threadsBatch}); ${describeForLog(info.runtime)}; ${describeEngineForLog(info.engine, engine)}`,
      );
      const reranker =
        settings.reranker === undefined
          ? undefined
          : resources.use(
              "the reranker",
              await loadReranker(settings.reranker, settings.cacheDir, {
                threads: info.threads,
                ...(settings.registry === undefined ? {} : { registry: settings.registry }),
              }),
            );
      return { store, embedder, llm, reranker, registryModel, service };
    });
    const { store, embedder, llm, reranker, registryModel } = value;
    const { closeOnSignals, inProcessPromptLimit, runRagService } = value.service;
    // Adapter routing reads the registry versions the in-process engine serves (new after a reload).
    const adapters =
      registryModel === undefined || settings.adapterRouting === "off"
        ? undefined
        : (await import("../../rag/adapter-routing.js")).createAdapterRouter(() => registryModel.catalog());
    const service = await runRagService({
      settings,
      store,
      embedder,
      llm,
      ...inProcessPromptLimit(registryModel?.limits ?? llm.engine),
      ...(registryModel === undefined ? {} : { reload: registryModel.reload }),
      // Admission before any work, sized to the engine's own: it never refuses what /rag admitted.
      autoMaxGenerations: llm.engine.info.maxConcurrentRequests,
      demoModel,
      ...(reranker === undefined ? {} : { reranker }),
      ...(adapters === undefined ? {} : { adapters }),
      disposeResources: () => stack.disposeAsync(),
    });
    log(`listening on ${service.url} (model ${llm.id}; store ${store.location})`);
    closeOnSignals(service, log, settings);
  });
}

/**
 * Starts loading the model and returns the load: released with `resources` (a load still running
 * is cancelled, a loaded model disposed), also when start-up fails while it loads.
 */
function loadInBackground(
  resources: ResourceStack,
  create: (options: LlamaCppEngineOptions) => Promise<LlamaCppLanguageModel>,
  modelPath: string,
  engineOptions: Omit<LlamaCppEngineOptions, "modelPath">,
): Promise<LlamaCppLanguageModel> {
  const cancel = new AbortController();
  let loaded = false;
  const loading = create({ modelPath, ...engineOptions, signal: cancel.signal });
  loading.then(
    () => {
      loaded = true;
    },
    () => undefined,
  );
  resources.defer("the language model", async () => {
    if (!loaded) cancel.abort();
    const llm = await loading.catch(() => undefined);
    await llm?.[Symbol.asyncDispose]();
  });
  return loading;
}

async function resolveServeModel(
  model: string,
  cacheDir: string | undefined,
  demoFallback: boolean,
  log: (message: string) => void,
): Promise<{ path: string; demo: boolean }> {
  if (model === DEMO_MODEL) {
    log(DEMO_MODEL_WARNING);
    return { path: await demoModelPath(), demo: true };
  }
  const { createDownloadProgressReporter, resolveModelFile } = await import("../../model-source/index.js");
  try {
    const path = await resolveModelFile(model, {
      ...(cacheDir === undefined ? {} : { cacheDir }),
      onProgress: createDownloadProgressReporter({ label: `download ${model}` }),
    });
    return { path, demo: false };
  } catch (error) {
    const reason = isAppError(error) || error instanceof Error ? error.message : String(error);
    const isDefault = model === DEFAULT_SERVE_MODEL;
    // Only the default model falls back, and only when the failure is the network's: a model the
    // user named is never replaced.
    const unreachable = isAppError(error) && (error.code === "upstream_unavailable" || error.code === "timeout");
    if (isDefault && demoFallback && unreachable) {
      log(`could not download the default model ${model}: ${reason}`);
      log(DEMO_MODEL_WARNING);
      return { path: await demoModelPath(), demo: true };
    }
    // A file the user named that is missing or not a model: its own problem and code, no download advice.
    if (!isDefault && !unreachable && isAppError(error)) {
      throw new AppError(error.code, `could not load the model ${model}: ${reason}`, { cause: error });
    }
    throw new AppError(
      "model_not_found",
      `${isDefault ? "could not download the default model" : "could not load the model"} ${model}: ${reason}\n` +
        "Without internet access, pass a local GGUF file: llm-twin serve --model ./path/to/model.gguf (or set LLM_TWIN_MODEL).",
      { cause: error },
    );
  }
}
