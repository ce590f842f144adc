/**
 * The service's model slot: loading → ready (or failed), then stopping. The HTTP server listens
 * before the model loads, so every route asks the holder for the engine and gets a 503 until then.
 */
import { AppError } from "../errors/index.js";
import type { LlamaCppEngine } from "../llm/llama-cpp/index.js";
import type { RegistryVersion } from "../models-registry/serving.js";

/** Registry versions of what serves (null when not from the registry), for /info, /v1/models and reloads. */
export type ServedVersions = {
  model: RegistryVersion | null;
  adapters: ReadonlyArray<{ name: string; registry: RegistryVersion | null; author: string | null }>;
};

const NOT_FROM_REGISTRY: ServedVersions = { model: null, adapters: [] };

export type ModelState = "loading" | "ready" | "failed" | "stopping";

export type ModelHolder = {
  readonly state: ModelState;
  /** Load progress in [0, 1] while loading. */
  readonly progress: number;
  readonly engine: LlamaCppEngine | undefined;
  /** Registry versions of the engine serving now. */
  readonly served: ServedVersions;
  /** The engine, or `model_loading` / `shutting_down` / `dependency_unavailable`. */
  require(): LlamaCppEngine;
  setProgress(fraction: number): void;
  setReady(engine: LlamaCppEngine, served?: ServedVersions): void;
  /** Swaps the serving engine atomically (a reload); returns the one it replaces. */
  replace(engine: LlamaCppEngine, served: ServedVersions): LlamaCppEngine | undefined;
  setFailed(error: unknown): void;
  setStopping(): void;
};

export function createModelHolder(): ModelHolder {
  let state: ModelState = "loading";
  let progress = 0;
  let engine: LlamaCppEngine | undefined;
  let failure: unknown;
  let served = NOT_FROM_REGISTRY;
  return {
    get state() {
      return state;
    },
    get progress() {
      return progress;
    },
    get engine() {
      return engine;
    },
    get served() {
      return served;
    },
    require() {
      if (state === "ready" && engine !== undefined) return engine;
      if (state === "loading") {
        throw new AppError("model_loading", `The model is loading (${Math.round(progress * 100)}%)`, {
          retryable: true,
        });
      }
      if (state === "stopping") throw new AppError("shutting_down", "The server is shutting down", { retryable: true });
      throw new AppError("dependency_unavailable", "The model failed to load", { cause: failure, retryable: false });
    },
    setProgress(fraction) {
      progress = fraction;
    },
    setReady(loaded, versions = NOT_FROM_REGISTRY) {
      engine = loaded;
      served = versions;
      progress = 1;
      if (state === "loading") state = "ready";
    },
    replace(loaded, versions) {
      const previous = engine;
      engine = loaded;
      served = versions;
      return previous;
    },
    setFailed(error) {
      failure = error;
      state = "failed";
    },
    setStopping() {
      state = "stopping";
    },
  };
}
