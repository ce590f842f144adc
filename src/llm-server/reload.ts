/**
 * Rollout without restart (`POST /admin/reload`): re-resolves the registry references the service
 * was started with; when a version changed, loads the new model and adapters beside the serving
 * ones, swaps them atomically, and disposes the old engine once the requests it holds have
 * finished. A failed load (missing file, integrity mismatch, adapter for another base, llama.cpp
 * refusing a file) leaves the old engine serving and rejects with the error. One reload at a time.
 */
import type { LlamaCppEngine } from "../llm/llama-cpp/index.js";
import { planVersions, type RegistryVersion, type ServedModelPlan } from "../models-registry/serving.js";
import type { ModelHolder, ServedVersions } from "./model-holder.js";

export type VersionChange = { name: string; from: number | null; to: number | null };

export type ReloadResult = {
  /** False when every registry reference still designates the version serving: nothing was loaded. */
  changed: boolean;
  /** The base model's versions (null when it is not served from the registry). */
  model: VersionChange | null;
  /** Every adapter before or after, by name; `from`/`to` null where it was absent or is not from the registry. */
  adapters: VersionChange[];
};

export type ModelReloader = {
  reload(): Promise<ReloadResult>;
  /** Resolves once every replaced engine has finished its requests and been disposed. */
  drain(): Promise<void>;
  /** Disposes the replaced engines now (shutdown after the grace period): their requests are cancelled. */
  disposeReplaced(): Promise<void>;
};

export type ModelReloaderOptions = {
  holder: ModelHolder;
  /** Reads the registry again. */
  plan(): Promise<ServedModelPlan>;
  /** Loads the plan's files (integrity checked) into a new engine. */
  load(plan: ServedModelPlan): Promise<{ engine: LlamaCppEngine; served: ServedVersions }>;
  log?: (level: "info" | "warn" | "error", data: Record<string, unknown>, message: string) => void;
};

function versionNumber(version: RegistryVersion | null | undefined): number | null {
  return version?.version ?? null;
}

export function describeChanges(
  current: ServedVersions,
  next: Pick<ServedVersions, "model"> & { adapters: ReadonlyArray<{ name: string; registry: RegistryVersion | null }> },
): ReloadResult {
  const model =
    current.model === null && next.model === null
      ? null
      : {
          name: next.model?.name ?? current.model?.name ?? "",
          from: versionNumber(current.model),
          to: versionNumber(next.model),
        };
  const names = [...new Set([...current.adapters, ...next.adapters].map((adapter) => adapter.name))].sort();
  const adapters = names.map((name) => {
    const before = current.adapters.find((adapter) => adapter.name === name);
    const after = next.adapters.find((adapter) => adapter.name === name);
    return { name, from: versionNumber(before?.registry), to: versionNumber(after?.registry), before, after };
  });
  const changed =
    (model !== null && (model.from !== model.to || current.model?.name !== next.model?.name)) ||
    adapters.some(({ before, after, from, to }) => before === undefined || after === undefined || from !== to);
  return { changed, model, adapters: adapters.map(({ name, from, to }) => ({ name, from, to })) };
}

export function createModelReloader(options: ModelReloaderOptions): ModelReloader {
  const { holder } = options;
  const retiring = new Map<LlamaCppEngine, Promise<void>>();
  let queue: Promise<unknown> = Promise.resolve();

  async function reloadNow(): Promise<ReloadResult> {
    holder.require();
    const plan = await options.plan();
    const result = describeChanges(holder.served, planVersions(plan));
    if (!result.changed) return result;
    const { engine, served } = await options.load(plan);
    if (holder.state !== "ready") {
      await engine.dispose();
      holder.require();
    }
    const previous = holder.replace(engine, served);
    options.log?.("info", { ...result }, "reloaded: new requests use the new versions");
    if (previous !== undefined && previous !== engine) retire(previous);
    return result;
  }

  function retire(engine: LlamaCppEngine): void {
    // Requests already admitted keep their reference to this engine and finish on it.
    const retired = engine
      .idle()
      .then(() => engine.dispose())
      .then(() => options.log?.("info", {}, "the replaced model was disposed (its requests had finished)"))
      .catch((error: unknown) => options.log?.("warn", { err: error }, "disposing the replaced model failed"))
      .finally(() => retiring.delete(engine));
    retiring.set(engine, retired);
  }

  return {
    reload() {
      const next = queue.then(reloadNow, reloadNow);
      queue = next.catch(() => undefined);
      return next.catch((error: unknown) => {
        options.log?.("error", { err: error }, "reload failed: the previous model keeps serving");
        throw error;
      });
    },
    async drain() {
      await Promise.all([...retiring.values()]);
    },
    async disposeReplaced() {
      await Promise.all([...retiring.keys()].map((engine) => engine.dispose()));
      await Promise.all([...retiring.values()]);
    },
  };
}
