/**
 * Checks the --lora files before llama.cpp loads them: llama.cpp reports every failure (missing
 * file, not GGUF, a model instead of an adapter, another architecture) as the same "not a LoRA
 * adapter for this base model", so each mistake is named here first. Weight shapes that do not fit
 * the base are still found by llama.cpp when it loads the adapter.
 */
import { AppError } from "../../errors/index.js";
import { assertGgufFile } from "../../model-source/gguf-magic.js";
import type { LoraAdapter } from "./engine-types.js";

export async function checkLoraFiles(
  loras: readonly LoraAdapter[],
  /** The served model's general.architecture, when known. */
  baseArchitecture: string | undefined,
): Promise<void> {
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
    const info = await readGgufFileInfo(lora.path, { readTensorInfo: false, logWarnings: false });
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
  }
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
