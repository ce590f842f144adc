/**
 * The one-process `serve` with `--model registry:<name>@<version|stage>`: the in-process engine
 * (base + production adapters) held in a ModelHolder so that POST /admin/reload can swap it like
 * serve-llm does (src/llm-server/reload.ts): the language model, the adapter catalog and the
 * prompt limits read the serving engine at each call; a request keeps the engine it started on.
 */

import type { LlamaCppEngine, LlamaCppEngineOptions } from "../../llm/llama-cpp/engine-types.js";
import { createLlamaCppEngine, languageModelFromEngine } from "../../llm/llama-cpp/index.js";
import type { LanguageModel, LanguageModelInput } from "../../llm/port.js";
import { createModelHolder, type ModelHolder, type ServedVersions } from "../../llm-server/model-holder.js";
import { createModelReloader, type ReloadResult } from "../../llm-server/reload.js";
import { loadServedModel, planServedModel, type ServedModelOptions } from "../../models-registry/serving.js";
import type { AdapterCatalog } from "../adapter-routing.js";

export type RegistryModelOptions = Omit<ServedModelOptions, "storage"> & {
  /** Engine settings (threads, parallel, timeouts...); model path, adapters and id come from the registry. */
  engine: Omit<LlamaCppEngineOptions, "modelPath" | "loras" | "modelId">;
  log?: (message: string) => void;
};

export type RegistryModel = {
  llm: LanguageModel & { readonly engine: LlamaCppEngine };
  holder: ModelHolder;
  /** The adapters and versions serving now (a new object after each reload). */
  catalog(): AdapterCatalog;
  /** The serving engine's limits and token counting (for the RAG context budget). */
  limits: {
    readonly limits: { maxInputTokens: number; maxTotalTokens: number };
    countTokens(input: LanguageModelInput): number;
    /** The serving engine: a new one after a reload (its tokenizer may differ: cached counts are dropped). */
    readonly identity: LlamaCppEngine;
  };
  reload(): Promise<ReloadResult>;
};

function catalogOf(holder: ModelHolder, modelId: string): AdapterCatalog {
  const { served } = holder;
  return {
    model: { name: served.model?.name ?? modelId, version: served.model?.version ?? null },
    adapters: served.adapters.map((adapter) => ({
      name: adapter.name,
      version: adapter.registry?.version ?? null,
      author: adapter.author,
    })),
  };
}

export async function startRegistryModel(options: RegistryModelOptions): Promise<RegistryModel> {
  const { engine: engineOptions, log, ...servedOptions } = options;
  const holder = createModelHolder();
  const plan = () => planServedModel(servedOptions);
  const load = async (planned: Awaited<ReturnType<typeof plan>>) => {
    const served = await loadServedModel(planned, async (source) => {
      throw new Error(`${source} is not a registry reference`);
    });
    const engine = await createLlamaCppEngine({
      ...engineOptions,
      modelPath: served.modelPath,
      loras: served.adapters.map(({ name, path, scale }) => ({ name, path, scale })),
      ...(served.registry === null ? {} : { modelId: served.registry.name }),
    });
    const versions: ServedVersions = {
      model: served.registry,
      adapters: served.adapters.map(({ name, registry, author }) => ({ name, registry, author })),
    };
    return { engine, served: versions };
  };
  const first = await load(await plan());
  holder.setReady(first.engine, first.served);
  const reloader = createModelReloader({
    holder,
    plan,
    load,
    ...(log === undefined ? {} : { log: (_level, _data, message) => log(message) }),
  });
  let catalog = catalogOf(holder, first.engine.modelId);
  let catalogFor = holder.served;
  const current = () => languageModelFromEngine(holder.require());
  const llm: RegistryModel["llm"] = {
    get id() {
      return holder.require().modelId;
    },
    get engine() {
      return holder.require();
    },
    generate: (request) => current().generate(request),
    stream: (request) => current().stream(request),
    health: async () => holder.state === "ready" && holder.engine?.disposed === false,
    async [Symbol.asyncDispose]() {
      holder.setStopping();
      await reloader.disposeReplaced();
      await holder.engine?.dispose();
    },
  };
  return {
    llm,
    holder,
    catalog() {
      if (catalogFor !== holder.served) {
        catalogFor = holder.served;
        catalog = catalogOf(holder, holder.require().modelId);
      }
      return catalog;
    },
    limits: {
      get limits() {
        return holder.require().limits;
      },
      countTokens: (input) => holder.require().countTokens(input),
      get identity() {
        return holder.require();
      },
    },
    reload: () => reloader.reload(),
  };
}
