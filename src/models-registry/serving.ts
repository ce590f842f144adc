/**
 * What a serving process loads when its model comes from the registry: the base model's file and
 * the LoRA adapters that go with it. Two steps so a reload can tell what changed before loading
 * anything: `planServedModel` reads the registry index (cheap), `loadServedModel` turns the plan
 * into local files, each checked against the sha256 and size recorded at registration.
 *
 * Adapters loaded automatically: every entry of kind `adapter` whose base is the served
 * `name@version` and that holds the `production` stage; each is named by its registry name (the
 * name a request selects: TGI `adapter_id`, OpenAI `model`), its author recorded beside it.
 * `--lora <name>=registry:<name>@<version|stage>` names one explicitly; it must apply to the
 * served base (`adapter_base_mismatch` otherwise).
 */
import { AppError } from "../errors/index.js";
import { defaultRegistryLocation, isRegistryReference, openRegistryStorage } from "./open.js";
import { findEntry, formatReference, parseModelReference, REGISTRY_SCHEME } from "./reference.js";
import { loadModelFile, readRegistryIndex } from "./registry.js";
import type { RegistryStorage } from "./storage.js";
import type { ModelEntry } from "./types.js";

export type RegistryVersion = { name: string; version: number };

export type LoraSpec = { name: string; path: string; scale: number };

type PlannedAdapter = LoraSpec & { entry: ModelEntry | undefined };

export type ServedModelPlan = {
  source: string;
  base: ModelEntry | undefined;
  adapters: PlannedAdapter[];
  storage: RegistryStorage | undefined;
};

export type ServedAdapter = LoraSpec & { registry: RegistryVersion | null; author: string | null };

export type ServedModel = {
  modelPath: string;
  /** The base model's registry name and version; null when it is not served from the registry. */
  registry: RegistryVersion | null;
  adapters: ServedAdapter[];
};

export type ServedModelOptions = {
  /** The model source (`registry:<name>@<version|stage>`, a path, a URL, `hf:`). */
  model: string;
  /** `--lora` adapters; a path may be a `registry:` reference. */
  loras?: readonly LoraSpec[];
  /** Registry location; default LLM_TWIN_REGISTRY or `<cacheDir>/registry`. */
  registry?: string;
  cacheDir?: string;
  /** Load the production adapters of a registry base model (default true). */
  productionAdapters?: boolean;
  /** An opened registry (tests pass one on a mocked S3 client); default: opened from `registry`. */
  storage?: RegistryStorage;
};

function versionOf(entry: ModelEntry | undefined): RegistryVersion | null {
  return entry === undefined ? null : { name: entry.name, version: entry.version };
}

/** Reads the registry index once and decides which entries serve; no file is read or checked yet. */
export async function planServedModel(options: ServedModelOptions): Promise<ServedModelPlan> {
  const loras = options.loras ?? [];
  const usesRegistry = isRegistryReference(options.model) || loras.some((lora) => isRegistryReference(lora.path));
  if (!usesRegistry)
    return { source: options.model, base: undefined, adapters: [...loras].map(plain), storage: undefined };
  const storage =
    options.storage ??
    (await openRegistryStorage(
      options.registry ?? defaultRegistryLocation(process.env, options.cacheDir),
      options.cacheDir === undefined ? {} : { cacheDirectory: options.cacheDir },
    ));
  const index = await readRegistryIndex(storage);
  const find = (reference: string) =>
    findEntry(index, parseModelReference(reference.slice(REGISTRY_SCHEME.length)), storage.location);
  const base = isRegistryReference(options.model) ? find(options.model) : undefined;
  if (base !== undefined && base.kind !== "base")
    throw new AppError(
      "configuration_error",
      `--model ${options.model} is an adapter (${formatReference(base)}); serve its base (${base.base ?? "?"}) and select the adapter per request`,
    );
  const adapters: PlannedAdapter[] = [];
  for (const lora of loras) {
    if (!isRegistryReference(lora.path)) {
      adapters.push(plain(lora));
      continue;
    }
    const entry = find(lora.path);
    assertAdapterOf(entry, base, `--lora ${lora.name}=${lora.path}`);
    adapters.push({ ...lora, entry });
  }
  if (base !== undefined && options.productionAdapters !== false) {
    const baseReference = formatReference(base);
    const production = index.entries
      .filter(
        (entry) => entry.kind === "adapter" && entry.base === baseReference && entry.stages.includes("production"),
      )
      .sort((left, right) => left.name.localeCompare(right.name));
    for (const entry of production) {
      if (adapters.some((adapter) => adapter.name === entry.name)) {
        if (adapters.some((adapter) => adapter.name === entry.name && adapter.entry?.name === entry.name)) continue;
        throw new AppError(
          "configuration_error",
          `--lora ${entry.name}=...: the name is taken by the production adapter ${formatReference(entry)} of ${baseReference}; pick another name`,
        );
      }
      adapters.push({ name: entry.name, path: `${REGISTRY_SCHEME}${formatReference(entry)}`, scale: 1, entry });
    }
  }
  return { source: options.model, base, adapters, storage };
}

function plain(lora: LoraSpec): PlannedAdapter {
  return { ...lora, entry: undefined };
}

function assertAdapterOf(entry: ModelEntry, base: ModelEntry | undefined, what: string): void {
  if (entry.kind !== "adapter")
    throw new AppError("configuration_error", `${what}: ${formatReference(entry)} is a base model, not an adapter`);
  if (base !== undefined && entry.base !== formatReference(base))
    throw new AppError(
      "adapter_base_mismatch",
      `${what}: ${formatReference(entry)} applies to ${entry.base ?? "no base"}, not to the served ${formatReference(base)}; register an adapter trained on ${formatReference(base)}`,
      { details: { adapter: formatReference(entry), base: formatReference(base) } },
    );
}

/** Local files of the plan, integrity checked (`integrity_mismatch`, `not_found`). */
export async function loadServedModel(
  plan: ServedModelPlan,
  /** Resolves a base model that is not in the registry (a path, URL, hf: URI). */
  resolveFile: (source: string) => Promise<string>,
): Promise<ServedModel> {
  const { storage } = plan;
  const modelPath =
    plan.base !== undefined && storage !== undefined
      ? await loadModelFile(storage, plan.base)
      : await resolveFile(plan.source);
  const adapters: ServedAdapter[] = [];
  for (const adapter of plan.adapters) {
    const path =
      adapter.entry !== undefined && storage !== undefined ? await loadModelFile(storage, adapter.entry) : adapter.path;
    adapters.push({
      name: adapter.name,
      path,
      scale: adapter.scale,
      registry: versionOf(adapter.entry),
      author: adapter.entry?.author ?? null,
    });
  }
  return { modelPath, registry: versionOf(plan.base), adapters };
}

/** `{name, version}` of the plan's base and adapters, to compare with what is served. */
export function planVersions(plan: ServedModelPlan): {
  model: RegistryVersion | null;
  adapters: Array<{ name: string; registry: RegistryVersion | null }>;
} {
  return {
    model: versionOf(plan.base),
    adapters: plan.adapters.map((adapter) => ({ name: adapter.name, registry: versionOf(adapter.entry) })),
  };
}
