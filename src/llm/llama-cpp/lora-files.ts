/**
 * Checks the --lora files before llama.cpp loads them: llama.cpp reports every failure (missing
 * file, not GGUF, a model instead of an adapter, another architecture) as the same "not a LoRA
 * adapter for this base model", so each mistake is named here first. Weight shapes that do not fit
 * the base are still found by llama.cpp when it loads the adapter.
 */
import { AppError } from "../../errors/index.js";
import { assertGgufFile } from "../../model-source/gguf-magic.js";
import type { LoraAdapter } from "./engine-types.js";
import { type LoraFileFacts, loraFileFacts } from "./lora-mode.js";

/** A tensor's name and shape (ne), as node-llama-cpp's GGUF reader lists them. */
export type TensorShape = { name: string; dimensions: readonly (number | bigint)[] };

export async function checkLoraFiles(
  loras: readonly LoraAdapter[],
  /** The served model's general.architecture, when known. */
  baseArchitecture: string | undefined,
  /** The served model's tensors, when known: each adapted weight must have the adapter's shape. */
  baseTensors?: readonly TensorShape[],
): Promise<void> {
  await readCheckedLoraFiles(loras, baseArchitecture, baseTensors);
}

/** checkLoraFiles, giving each adapter's LoraFileFacts from the header it read (in `loras` order). */
export async function readCheckedLoraFiles(
  loras: readonly LoraAdapter[],
  baseArchitecture: string | undefined,
  baseTensors?: readonly TensorShape[],
): Promise<LoraFileFacts[]> {
  const facts: LoraFileFacts[] = [];
  for (const lora of loras) {
    const what = `LoRA adapter '${lora.name}'`;
    try {
      await assertGgufFile(lora.path);
    } catch (error) {
      if (error instanceof AppError && error.code === "model_not_found") {
        throw new AppError(
          "model_not_found",
          `${what}: file not found: ${lora.path} (--lora ${lora.name}=<path.gguf>)`,
          {
            cause: error,
            details: { adapter: lora.name, path: lora.path },
          },
        );
      }
      if (error instanceof AppError) throw new AppError(error.code, `${what}: ${error.message}`, { cause: error });
      throw error;
    }
    const { readGgufFileInfo } = await import("node-llama-cpp");
    const info = await readGgufFileInfo(lora.path, { logWarnings: false });
    const general = (info.metadata as { general?: { type?: unknown; architecture?: unknown } }).general;
    if (general?.type !== "adapter") {
      throw new AppError(
        "configuration_error",
        `${what}: ${lora.path} is a model, not a LoRA adapter (its general.type is ${JSON.stringify(general?.type ?? null)}, an adapter's is "adapter"); serve it with --model, or give --lora an adapter file`,
        { details: { adapter: lora.name, path: lora.path } },
      );
    }
    const architecture = typeof general.architecture === "string" ? general.architecture : undefined;
    if (baseArchitecture !== undefined && architecture !== undefined && architecture !== baseArchitecture) {
      throw new AppError(
        "adapter_base_mismatch",
        `${what}: ${lora.path} is for the ${architecture} architecture, not ${baseArchitecture} (the served model's); give an adapter trained on this base model`,
        { details: { adapter: lora.name, path: lora.path, architecture, baseArchitecture } },
      );
    }
    const misfit = baseTensors === undefined ? undefined : firstMisfit(info.tensorInfo ?? [], baseTensors);
    if (misfit !== undefined) {
      throw new AppError(
        "adapter_base_mismatch",
        `${what}: ${lora.path} does not fit the served model: ${misfit}; give an adapter trained on this base model`,
        { details: { adapter: lora.name, path: lora.path } },
      );
    }
    facts.push(loraFileFacts(info));
  }
  return facts;
}

const shape = (dimensions: readonly (number | bigint)[]) => `[${dimensions.map(String).join(", ")}]`;

/**
 * The first adapter tensor llama.cpp would refuse: `<W>.lora_a` must be [W.ne[0], r] and
 * `<W>.lora_b` [r, W.ne[1]] for a weight W of the base (GUIDE §6).
 */
function firstMisfit(adapter: readonly TensorShape[], base: readonly TensorShape[]): string | undefined {
  const weights = new Map(base.map((tensor) => [tensor.name, tensor.dimensions]));
  for (const tensor of adapter) {
    const match = /^(.*)\.lora_([ab])$/.exec(tensor.name);
    if (match === null) continue;
    const [, weight = "", part] = match;
    const baseShape = weights.get(weight);
    if (baseShape === undefined) return `${tensor.name} adapts ${weight}, which the model does not have`;
    const fits =
      part === "a"
        ? String(tensor.dimensions[0]) === String(baseShape[0])
        : String(tensor.dimensions[1]) === String(baseShape[1]);
    if (!fits) return `${tensor.name} is ${shape(tensor.dimensions)}, the model's ${weight} is ${shape(baseShape)}`;
  }
  return undefined;
}

/** Whether `path` is a LoRA adapter file (to explain a model that failed to load); false when unreadable. */
export async function isLoraAdapterFile(path: string): Promise<boolean> {
  try {
    const { readGgufFileInfo } = await import("node-llama-cpp");
    const info = await readGgufFileInfo(path, { readTensorInfo: false, logWarnings: false });
    return (info.metadata as { general?: { type?: unknown } }).general?.type === "adapter";
  } catch {
    return false;
  }
}
