/**
 * The model registry's operations, free functions over a RegistryStorage: register, list, show,
 * promote, remove, and loading an entry's file with its integrity checked.
 *
 * Registering reserves the version first (index update), then stores the file, then records the
 * entry (second index update): a run that dies in between leaves a skipped version number and at
 * worst an unreferenced file, never an entry without its file.
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { basename, resolve } from "node:path";
import { AppError } from "../errors/index.js";
import { findEntry, formatReference, parseModelReference } from "./reference.js";
import type { RegistryStorage } from "./storage.js";
import {
  emptyIndex,
  type ModelEntry,
  type ModelKind,
  type ModelStage,
  REGISTRY_FORMAT_VERSION,
  REGISTRY_INDEX_KEY,
  type RegistryIndex,
} from "./types.js";

export async function readRegistryIndex(storage: RegistryStorage): Promise<RegistryIndex> {
  return parseIndex(await storage.readText(REGISTRY_INDEX_KEY), storage.location);
}

function parseIndex(text: string | undefined, location: string): RegistryIndex {
  if (text === undefined) return emptyIndex();
  let index: RegistryIndex;
  try {
    index = JSON.parse(text) as RegistryIndex;
  } catch (cause) {
    throw new AppError("internal_error", `the registry index ${location}/${REGISTRY_INDEX_KEY} is not JSON`, { cause });
  }
  if (index.formatVersion !== REGISTRY_FORMAT_VERSION || !Array.isArray(index.entries))
    throw new AppError(
      "configuration_error",
      `the registry ${location} has format ${String(index.formatVersion)}; this llm-twin reads format ${REGISTRY_FORMAT_VERSION}`,
    );
  return index;
}

async function updateIndex(storage: RegistryStorage, change: (index: RegistryIndex) => RegistryIndex): Promise<void> {
  await storage.update(REGISTRY_INDEX_KEY, (current) => {
    const next = change(parseIndex(current, storage.location));
    return `${JSON.stringify(next, null, 2)}\n`;
  });
}

export async function fileDigest(path: string): Promise<{ sha256: string; size: number }> {
  const hash = createHash("sha256");
  let size = 0;
  for await (const chunk of createReadStream(path)) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { sha256: hash.digest("hex"), size };
}

export type RegisterOptions = {
  file: string;
  name: string;
  kind: ModelKind;
  /** `name@version` or `name@stage` of a registered base model; required for adapters. */
  base?: string;
  author?: string;
  trainedOn?: string;
  metadata?: Record<string, unknown>;
  /** Reference the file where it is instead of copying it into the registry. */
  link?: boolean;
  now?: () => Date;
};

export async function registerModel(storage: RegistryStorage, options: RegisterOptions): Promise<ModelEntry> {
  const name = parseModelReference(options.name).name;
  if (options.name.includes("@")) throw new AppError("bad_request", `--name ${options.name}: a name has no "@version"`);
  const path = resolve(options.file);
  const info = await stat(path).catch(() => undefined);
  if (info === undefined || !info.isFile())
    throw new AppError("not_found", `${options.file} is not a file (give the path of a .gguf model or adapter)`);
  let base: string | null = null;
  if (options.kind === "adapter") {
    if (options.base === undefined)
      throw new AppError(
        "bad_request",
        "--kind adapter needs --base <name>@<version|stage> (the base model it applies to)",
      );
    const baseEntry = findEntry(await readRegistryIndex(storage), parseModelReference(options.base), storage.location);
    if (baseEntry.kind !== "base")
      throw new AppError("bad_request", `--base ${options.base} is an adapter; an adapter applies to a base model`);
    base = formatReference(baseEntry);
  } else if (options.base !== undefined) {
    throw new AppError("bad_request", "--base applies to --kind adapter only");
  }
  const { sha256, size } = await fileDigest(path);

  let version = 0;
  await updateIndex(storage, (index) => {
    version = (index.lastVersion[name] ?? 0) + 1;
    return { ...index, lastVersion: { ...index.lastVersion, [name]: version } };
  });
  const fileName = basename(path);
  const key = `files/${name}/${version}/${fileName}`;
  if (options.link !== true) await storage.putFile(key, path);
  const entry: ModelEntry = {
    name,
    version,
    kind: options.kind,
    sha256,
    size,
    file: options.link === true ? { storage: "linked", path, fileName } : { storage: "copied", key, fileName },
    base,
    author: options.author ?? null,
    trainedOn: options.trainedOn ?? null,
    stages: [],
    metadata: options.metadata ?? {},
    registeredAt: (options.now ?? (() => new Date()))().toISOString(),
  };
  await updateIndex(storage, (index) => ({ ...index, entries: [...index.entries, entry] }));
  return entry;
}

/** Every entry, by name then version. */
export async function listModels(storage: RegistryStorage): Promise<ModelEntry[]> {
  const { entries } = await readRegistryIndex(storage);
  return [...entries].sort((left, right) => left.name.localeCompare(right.name) || left.version - right.version);
}

export async function showModel(storage: RegistryStorage, reference: string): Promise<ModelEntry> {
  return findEntry(await readRegistryIndex(storage), parseModelReference(reference), storage.location);
}

/** Gives `stage` to one version; the version of the same name that held it loses it. */
export async function promoteModel(
  storage: RegistryStorage,
  reference: string,
  stage: ModelStage,
): Promise<ModelEntry> {
  const parsed = parseModelReference(reference);
  let promoted: ModelEntry | undefined;
  await updateIndex(storage, (index) => {
    const target = findEntry(index, parsed, storage.location);
    const entries = index.entries.map((entry) => {
      if (entry.name !== target.name) return entry;
      const others = entry.stages.filter((held) => held !== stage);
      if (entry.version !== target.version) return { ...entry, stages: others };
      promoted = { ...entry, stages: [...others, stage].sort() };
      return promoted;
    });
    return { ...index, entries };
  });
  if (promoted === undefined) throw new AppError("internal_error", `promoting ${reference} recorded nothing`);
  return promoted;
}

/** Removes an entry (and its copied file). A base that registered adapters apply to needs `force`. */
export async function removeModel(
  storage: RegistryStorage,
  reference: string,
  options: { force?: boolean } = {},
): Promise<ModelEntry> {
  const parsed = parseModelReference(reference);
  let removed: ModelEntry | undefined;
  await updateIndex(storage, (index) => {
    const target = findEntry(index, parsed, storage.location);
    const dependants = index.entries.filter((entry) => entry.base === formatReference(target));
    if (dependants.length > 0 && options.force !== true)
      throw new AppError(
        "bad_request",
        `${formatReference(target)} is the base of ${dependants.map(formatReference).join(", ")}; remove those first or pass --force`,
      );
    removed = target;
    return {
      ...index,
      entries: index.entries.filter((entry) => !(entry.name === target.name && entry.version === target.version)),
    };
  });
  if (removed === undefined) throw new AppError("internal_error", `removing ${reference} recorded nothing`);
  if (removed.file.storage === "copied") await storage.remove(removed.file.key);
  return removed;
}

/**
 * A local path to the entry's bytes after checking them against the size and sha256 recorded at
 * registration: a file changed (or truncated) since is refused with `integrity_mismatch`.
 */
export async function loadModelFile(storage: RegistryStorage, entry: ModelEntry): Promise<string> {
  const path = entry.file.storage === "linked" ? entry.file.path : await storage.localPath(entry.file.key);
  const info = await stat(path).catch(() => undefined);
  if (info === undefined)
    throw new AppError(
      "not_found",
      `the file of ${formatReference(entry)} is missing: ${path} (register it again, or 'llm-twin models remove ${formatReference(entry)}')`,
    );
  const actual = info.size === entry.size ? await fileDigest(path) : { sha256: "(not computed)", size: info.size };
  if (actual.size !== entry.size || actual.sha256 !== entry.sha256)
    throw new AppError(
      "integrity_mismatch",
      `${path} changed since ${formatReference(entry)} was registered (size ${actual.size}, expected ${entry.size}; sha256 ${actual.sha256.slice(0, 12)}, expected ${entry.sha256.slice(0, 12)}); register the new file as a new version`,
      { details: { model: formatReference(entry), path } },
    );
  return path;
}
