/** `llm-twin models register|list|show|promote|remove`: the model registry (src/models-registry). */
import { type Command, Option } from "commander";
import { AppError } from "../../errors/index.js";
import type { ModelEntry, RegistryStorage } from "../../models-registry/index.js";
import { table } from "../table.js";
import { DEFAULT_ARTIFACTS_DIR } from "./ingest.js";

type CommonOptions = { registry?: string; cacheDir?: string; json?: boolean };

function commonOptions(command: Command): Command {
  return command
    .addOption(
      new Option("--registry <dir|s3://bucket/prefix>", "where the registry lives (default <cache dir>/registry)").env(
        "LLM_TWIN_REGISTRY",
      ),
    )
    .addOption(
      new Option("--cache-dir <dir>", "cache (default registry, S3 downloads; default ~/.cache/llm-twin)").env(
        "LLM_TWIN_CACHE_DIR",
      ),
    )
    .addOption(new Option("--json", "print JSON on stdout").env("LLM_TWIN_JSON"));
}

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

  commonOptions(
    models
      .command("register")
      .description("register a GGUF model or adapter as the next version of --name")
      .argument("<file>", "the .gguf file")
      .requiredOption("--name <name>", "model name (letters, digits, . _ -)")
      .addOption(new Option("--kind <kind>", "base or adapter").choices(["base", "adapter"]).makeOptionMandatory())
      .option("--base <name@version|stage>", "for adapters: the registered base model it applies to")
      .option("--author <author-id>", "the author the model belongs to")
      .option("--trained-on <dataset-version>", "the dataset artifact version it was trained on")
      .option(
        "--meta <key=value>",
        "free metadata (repeatable)",
        (value: string, list: string[]) => [...list, value],
        [],
      )
      .option("--meta-json <json>", "free metadata as one JSON object")
      .option("--link", "reference the file where it is instead of copying it into the registry"),
  ).action(
    async (
      file: string,
      options: CommonOptions & {
        name: string;
        kind: "base" | "adapter";
        base?: string;
        author?: string;
        trainedOn?: string;
        meta: string[];
        metaJson?: string;
        link?: boolean;
      },
    ) => {
      const { registerModel } = await import("../../models-registry/index.js");
      const storage = await open(options);
      const entry = await registerModel(storage, {
        file,
        name: options.name,
        kind: options.kind,
        metadata: parseMetadata(options.meta, options.metaJson),
        link: options.link === true,
        ...(options.base === undefined ? {} : { base: options.base }),
        ...(options.author === undefined ? {} : { author: options.author }),
        ...(options.trainedOn === undefined ? {} : { trainedOn: options.trainedOn }),
      });
      print(
        options,
        entry,
        `registered ${entry.name}@${entry.version} in ${storage.location} (sha256 ${entry.sha256.slice(0, 16)}, ${entry.size} bytes)`,
      );
    },
  );

  commonOptions(models.command("list").description("every registered version, by name")).action(
    async (options: CommonOptions) => {
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
    },
  );

  commonOptions(
    models
      .command("show")
      .description("one entry and its lineage: model → dataset artifact → document artifact → source files")
      .argument("<name@version|stage>", "e.g. twin-paul@2, twin-paul@production, or twin-paul (latest)")
      .addOption(
        new Option("--artifacts <dir>", "folder of dataset artifacts (for the lineage)")
          .env("LLM_TWIN_ARTIFACTS_DIR")
          .default(DEFAULT_ARTIFACTS_DIR),
      ),
  ).action(async (reference: string, options: CommonOptions & { artifacts: string }) => {
    const { formatLineage, modelLineage, showModel } = await import("../../models-registry/index.js");
    const entry = await showModel(await open(options), reference);
    const lineage = await modelLineage(entry, options.artifacts);
    print(options, { ...entry, lineage }, `${describeEntry(entry)}\nlineage\n${formatLineage(lineage)}`);
  });

  commonOptions(
    models
      .command("promote")
      .description("give a version a stage (the version that held it loses it)")
      .argument("<name@version>", "e.g. twin-paul@2")
      .addOption(
        new Option("--stage <stage>", "staging or production").choices(["staging", "production"]).makeOptionMandatory(),
      ),
  ).action(async (reference: string, options: CommonOptions & { stage: "staging" | "production" }) => {
    const { promoteModel } = await import("../../models-registry/index.js");
    const entry = await promoteModel(await open(options), reference, options.stage);
    print(options, entry, `${entry.name}@${entry.version} is now ${options.stage}`);
  });

  commonOptions(
    models
      .command("remove")
      .description("remove a version (and its copied file); versions are never reused")
      .argument("<name@version>", "e.g. twin-paul@1")
      .option("--force", "remove a base model even though registered adapters apply to it"),
  ).action(async (reference: string, options: CommonOptions & { force?: boolean }) => {
    const { removeModel } = await import("../../models-registry/index.js");
    const entry = await removeModel(await open(options), reference, { force: options.force === true });
    print(options, entry, `removed ${entry.name}@${entry.version}`);
  });
}
