/** `llm-twin models register|list|show|promote|remove`: the model registry (src/models-registry). */
import type { Command } from "commander";
import { parseSettingValues } from "../../config/settings.js";
import { AppError } from "../../errors/index.js";
import type { ModelEntry, RegistryStorage } from "../../models-registry/index.js";
import { addSettingOptions } from "../settings-options.js";
import { table } from "../table.js";
import {
  MODELS_LIST_SETTINGS,
  MODELS_PROMOTE_SETTINGS,
  MODELS_REGISTER_SETTINGS,
  MODELS_REMOVE_SETTINGS,
  MODELS_SHOW_SETTINGS,
} from "./models-settings.js";

type CommonOptions = { registry?: string | undefined; cacheDir?: string | undefined; json?: boolean };

async function open(options: CommonOptions): Promise<RegistryStorage> {
  const { defaultRegistryLocation, openRegistryStorage } = await import("../../models-registry/index.js");
  const environment =
    options.cacheDir === undefined ? process.env : { ...process.env, LLM_TWIN_CACHE_DIR: options.cacheDir };
  return openRegistryStorage(options.registry ?? defaultRegistryLocation(environment), {
    ...(options.cacheDir === undefined ? {} : { cacheDirectory: options.cacheDir }),
  });
}

/** `--meta key=value` (repeatable): values that parse as JSON (numbers, booleans) keep their type. */
export function parseMetadata(pairs: readonly string[], json: string | undefined): Record<string, unknown> {
  let metadata: Record<string, unknown> = {};
  if (json !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(json);
    } catch {
      throw new AppError("bad_request", `--meta-json is not JSON: ${json.slice(0, 80)}`);
    }
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed))
      throw new AppError("bad_request", "--meta-json must be a JSON object, e.g. '{\"lora_rank\":16}'");
    metadata = parsed as Record<string, unknown>;
  }
  for (const pair of pairs) {
    const equals = pair.indexOf("=");
    if (equals <= 0) throw new AppError("bad_request", `--meta ${pair}: expected key=value`);
    const raw = pair.slice(equals + 1);
    let value: unknown = raw;
    try {
      const parsed: unknown = JSON.parse(raw);
      if (typeof parsed === "number" || typeof parsed === "boolean") value = parsed;
    } catch {
      // a plain string
    }
    metadata[pair.slice(0, equals)] = value;
  }
  return metadata;
}

function print(options: CommonOptions, json: unknown, text: string): void {
  process.stdout.write(options.json ? `${JSON.stringify(json)}\n` : text.endsWith("\n") ? text : `${text}\n`);
}

function describeEntry(entry: ModelEntry): string {
  const file = entry.file.storage === "linked" ? `${entry.file.path} (linked)` : `${entry.file.key} (copied)`;
  return [
    `model        ${entry.name}@${entry.version}`,
    `kind         ${entry.kind}${entry.base === null ? "" : ` of ${entry.base}`}`,
    `stages       ${entry.stages.length === 0 ? "-" : entry.stages.join(", ")}`,
    `author       ${entry.author ?? "-"}`,
    `trained on   ${entry.trainedOn ?? "-"}`,
    `file         ${file}`,
    `size         ${entry.size} bytes`,
    `sha256       ${entry.sha256}`,
    `registered   ${entry.registeredAt}`,
    `metadata     ${Object.keys(entry.metadata).length === 0 ? "-" : JSON.stringify(entry.metadata)}`,
  ].join("\n");
}

export function registerModelsCommand(program: Command): void {
  const models = program
    .command("models")
    .description("The model registry: base models and LoRA adapters, their versions, stages and lineage");

  addSettingOptions(
    models
      .command("register")
      .description("register a GGUF model or adapter as the next version of --name")
      .argument("<file>", "the .gguf file"),
    MODELS_REGISTER_SETTINGS,
  ).action(async (file: string, raw: Record<string, unknown>) => {
    const options = parseSettingValues(MODELS_REGISTER_SETTINGS, raw);
    const { registerModel } = await import("../../models-registry/index.js");
    const { assertFileMatchesKind } = await import("../../models-registry/file-kind.js");
    await assertFileMatchesKind(file, options.kind);
    const storage = await open(options);
    const entry = await registerModel(storage, {
      file,
      name: options.name,
      kind: options.kind,
      metadata: parseMetadata(options.meta, options.metaJson),
      link: options.link,
      ...(options.base === undefined ? {} : { base: options.base }),
      ...(options.author === undefined ? {} : { author: options.author }),
      ...(options.trainedOn === undefined ? {} : { trainedOn: options.trainedOn }),
    });
    print(
      options,
      entry,
      `registered ${entry.name}@${entry.version} in ${storage.location} (sha256 ${entry.sha256.slice(0, 16)}, ${entry.size} bytes)`,
    );
  });

  addSettingOptions(
    models.command("list").description("every registered version, by name"),
    MODELS_LIST_SETTINGS,
  ).action(async (raw: Record<string, unknown>) => {
    const options = parseSettingValues(MODELS_LIST_SETTINGS, raw);
    const { listModels } = await import("../../models-registry/index.js");
    const storage = await open(options);
    const entries = await listModels(storage);
    const rows = entries.map((entry) => [
      `${entry.name}@${entry.version}`,
      entry.kind,
      entry.base ?? "-",
      entry.author ?? "-",
      entry.stages.join(",") || "-",
      entry.trainedOn ?? "-",
      String(entry.size),
    ]);
    print(
      options,
      entries,
      entries.length === 0
        ? `no models registered in ${storage.location}`
        : table(["model", "kind", "base", "author", "stages", "trained on", "bytes"], rows),
    );
  });

  addSettingOptions(
    models
      .command("show")
      .description("one entry and its lineage: model → dataset artifact → document artifact → source files")
      .argument("<name@version|stage>", "e.g. twin-paul@2, twin-paul@production, or twin-paul (latest)"),
    MODELS_SHOW_SETTINGS,
  ).action(async (reference: string, raw: Record<string, unknown>) => {
    const options = parseSettingValues(MODELS_SHOW_SETTINGS, raw);
    const { formatLineage, modelLineage, showModel } = await import("../../models-registry/index.js");
    const entry = await showModel(await open(options), reference);
    const lineage = await modelLineage(entry, options.artifacts);
    print(options, { ...entry, lineage }, `${describeEntry(entry)}\nlineage\n${formatLineage(lineage)}`);
  });

  addSettingOptions(
    models
      .command("promote")
      .description("give a version a stage (the version that held it loses it)")
      .argument("<name@version>", "e.g. twin-paul@2"),
    MODELS_PROMOTE_SETTINGS,
  ).action(async (reference: string, raw: Record<string, unknown>) => {
    const options = parseSettingValues(MODELS_PROMOTE_SETTINGS, raw);
    const { promoteModel } = await import("../../models-registry/index.js");
    const entry = await promoteModel(await open(options), reference, options.stage);
    print(options, entry, `${entry.name}@${entry.version} is now ${options.stage}`);
  });

  addSettingOptions(
    models
      .command("remove")
      .description("remove a version (and its copied file); versions are never reused")
      .argument("<name@version>", "e.g. twin-paul@1"),
    MODELS_REMOVE_SETTINGS,
  ).action(async (reference: string, raw: Record<string, unknown>) => {
    const options = parseSettingValues(MODELS_REMOVE_SETTINGS, raw);
    const { removeModel } = await import("../../models-registry/index.js");
    const entry = await removeModel(await open(options), reference, { force: options.force });
    print(options, entry, `removed ${entry.name}@${entry.version}`);
  });
}
