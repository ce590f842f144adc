/** `models` subcommands' settings in the configuration registry (src/config/settings.ts). */
import { z } from "zod";
import { jsonOutputSetting, type Setting } from "../../config/settings.js";
import { DEFAULT_ARTIFACTS_DIR } from "./ingest-settings.js";

const text = z.string().min(1, "must not be empty");

/** Options of every `models` subcommand. */
export const MODELS_COMMON_SETTINGS = [
  {
    key: "registry",
    flag: "--registry <dir|s3://bucket/prefix>",
    env: "LLM_TWIN_REGISTRY",
    schema: text.optional(),
    defaultText: "<cache dir>/registry",
    help: "where the registry lives",
  },
  {
    key: "cacheDir",
    flag: "--cache-dir <dir>",
    env: "LLM_TWIN_CACHE_DIR",
    schema: text.optional(),
    defaultText: "~/.cache/llm-twin",
    help: "cache (default registry, S3 downloads)",
  },
  jsonOutputSetting("print JSON on stdout"),
] as const satisfies readonly Setting[];

export const MODELS_REGISTER_SETTINGS = [
  {
    key: "name",
    flag: "--name <name>",
    env: "LLM_TWIN_MODELS_NAME",
    schema: z.string({ error: "required" }).min(1, "must not be empty"),
    required: true,
    help: "model name (letters, digits, . _ -)",
  },
  {
    key: "kind",
    flag: "--kind <kind>",
    env: "LLM_TWIN_MODELS_KIND",
    schema: z.enum(["base", "adapter"], { error: "must be base or adapter" }),
    required: true,
    choices: ["base", "adapter"],
    help: "what the file is",
  },
  {
    key: "base",
    flag: "--base <name@version|stage>",
    env: "LLM_TWIN_MODELS_BASE",
    schema: text.optional(),
    help: "for adapters: the registered base model it applies to",
  },
  {
    key: "author",
    flag: "--author <author-id>",
    env: "LLM_TWIN_MODELS_AUTHOR",
    schema: text.optional(),
    help: "the author the model belongs to",
  },
  {
    key: "trainedOn",
    flag: "--trained-on <dataset-version>",
    env: "LLM_TWIN_MODELS_TRAINED_ON",
    schema: text.optional(),
    help: "the dataset artifact version it was trained on",
  },
  {
    key: "meta",
    flag: "--meta <key=value>",
    env: "LLM_TWIN_MODELS_META",
    schema: z.array(z.string()).default([]),
    repeatable: true,
    keepCommas: true,
    defaultText: "none",
    help: "free metadata (repeatable; the variable: comma-separated)",
  },
  {
    key: "metaJson",
    flag: "--meta-json <json>",
    env: "LLM_TWIN_MODELS_META_JSON",
    schema: text.optional(),
    help: "free metadata as one JSON object",
  },
  {
    key: "link",
    flag: "--link",
    env: "LLM_TWIN_MODELS_LINK",
    schema: z.boolean().default(false),
    defaultText: "false (copy)",
    help: "reference the file where it is instead of copying it into the registry",
  },
  ...MODELS_COMMON_SETTINGS,
] as const satisfies readonly Setting[];

export const MODELS_LIST_SETTINGS = MODELS_COMMON_SETTINGS;

export const MODELS_SHOW_SETTINGS = [
  {
    key: "artifacts",
    flag: "--artifacts <dir>",
    env: "LLM_TWIN_ARTIFACTS_DIR",
    schema: text,
    default: DEFAULT_ARTIFACTS_DIR,
    help: "folder of dataset artifacts (for the lineage)",
  },
  ...MODELS_COMMON_SETTINGS,
] as const satisfies readonly Setting[];

export const MODELS_PROMOTE_SETTINGS = [
  {
    key: "stage",
    flag: "--stage <stage>",
    env: "LLM_TWIN_MODELS_STAGE",
    schema: z.enum(["staging", "production"], { error: "must be staging or production" }),
    required: true,
    choices: ["staging", "production"],
    help: "the stage to give",
  },
  ...MODELS_COMMON_SETTINGS,
] as const satisfies readonly Setting[];

export const MODELS_REMOVE_SETTINGS = [
  {
    key: "force",
    flag: "--force",
    env: "LLM_TWIN_MODELS_FORCE",
    schema: z.boolean().default(false),
    defaultText: "false",
    help: "remove a base model even though registered adapters apply to it",
  },
  ...MODELS_COMMON_SETTINGS,
] as const satisfies readonly Setting[];
