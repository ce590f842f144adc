/**
 * The LLM service's configuration, validated once at start-up from the settings of ./settings.ts
 * (flags, environment variables, defaults: the configuration registry); every limit has a default,
 * listed in docs/llm-service.md.
 */
import { readdirSync } from "node:fs";
import path from "node:path";
import { givenValues, parseSettingValues, type SettingsValues, settingDefaults } from "../config/settings.js";
import { AppError } from "../errors/index.js";
import { SERVE_LLM_SETTINGS } from "./settings.js";

export const SAGEMAKER_MODEL_DIRECTORY = "/opt/ml/model";

/** The validated configuration before --lora specs are read: one property per setting of ./settings.ts. */
type LlmServerSettings = SettingsValues<typeof SERVE_LLM_SETTINGS>;

export type LlmServerConfig = Omit<LlmServerSettings, "loras"> & {
  loras: Array<{ name: string; path: string; scale: number }>;
};

const LORA_FORM =
  "<name>=<path.gguf>[:scale], e.g. --lora alice=adapters/alice.gguf:0.8 (LLM_TWIN_LORA: comma-separated)";
/** A decimal number as people write scales: 1, -1, 0.5, .5, 2., 1e-1. */
const SCALE = /^-?(?:\d+(?:\.\d*)?|\.\d+)(?:e[-+]?\d+)?$/i;

/** `<name>=<path.gguf>[:scale]` (scale default 1), as given to --lora or in LLM_TWIN_LORA. */
export function parseLoraSpec(spec: string): { name: string; path: string; scale: number } {
  const match = /^([A-Za-z0-9._-]+)=(.+)$/.exec(spec.trim());
  let path = match?.[2] ?? "";
  let scale = 1;
  const colon = path.lastIndexOf(":");
  if (colon >= 0) {
    const suffix = path.slice(colon + 1);
    const before = path.slice(0, colon);
    if (SCALE.test(suffix)) {
      scale = Number(suffix);
      path = before;
      if (!Number.isFinite(scale)) {
        throw new AppError(
          "configuration_error",
          `--lora '${spec}': the scale '${suffix}' is not a finite number; give ${LORA_FORM}`,
        );
      }
    } else if (/\.gguf$/i.test(before)) {
      // `alice.gguf:abc`: a scale that is not a number, not a file name with a colon.
      throw new AppError(
        "configuration_error",
        `--lora '${spec}': the scale '${suffix}' is not a number; give ${LORA_FORM}`,
      );
    }
  }
  if (match === null || path === "") {
    throw new AppError("configuration_error", `--lora '${spec}': expected ${LORA_FORM}`);
  }
  return { name: match[1] ?? "", path, scale };
}

/** Validates raw values (strings from flags/env are coerced, defaults applied); errors name the flag and variable. */
export function parseLlmServerConfig(raw: Record<string, unknown>): LlmServerConfig {
  const cleaned = givenValues(SERVE_LLM_SETTINGS, raw);
  if (cleaned.model === undefined) {
    const fromSageMaker = sageMakerModelFile();
    if (fromSageMaker === undefined) {
      throw new AppError(
        "configuration_error",
        `No model: give --model (or LLM_TWIN_MODEL) a path, an http(s) URL, an hf: URI or registry:<name>@<version|stage>, or put a .gguf file in ${SAGEMAKER_MODEL_DIRECTORY}`,
      );
    }
    cleaned.model = fromSageMaker;
  }
  const settings = parseSettingValues(SERVE_LLM_SETTINGS, { ...settingDefaults(SERVE_LLM_SETTINGS), ...cleaned });
  const config = { ...settings, loras: settings.loras.map(parseLoraSpec) };
  const names = new Set<string>();
  for (const lora of config.loras) {
    if (names.has(lora.name))
      throw new AppError("configuration_error", `--lora: the name '${lora.name}' is given twice`);
    names.add(lora.name);
  }
  if (
    config.maxTotalTokens !== undefined &&
    config.maxInputTokens !== undefined &&
    config.maxInputTokens >= config.maxTotalTokens
  ) {
    throw new AppError(
      "configuration_error",
      `--max-input-tokens / LLM_TWIN_MAX_INPUT_TOKENS (${config.maxInputTokens}) must be less than --max-total-tokens / LLM_TWIN_MAX_TOTAL_TOKENS (${config.maxTotalTokens})`,
    );
  }
  return config;
}

/** The first .gguf file under /opt/ml/model (SageMaker's model directory), if any. */
export function sageMakerModelFile(directory = SAGEMAKER_MODEL_DIRECTORY): string | undefined {
  try {
    const file = readdirSync(directory)
      .filter((name) => name.toLowerCase().endsWith(".gguf"))
      .sort()[0];
    return file === undefined ? undefined : path.join(directory, file);
  } catch {
    return undefined;
  }
}
