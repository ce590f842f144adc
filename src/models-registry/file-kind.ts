/**
 * `models register` checks the file is what --kind says before it enters the registry: a GGUF
 * file, a LoRA adapter (`general.type = "adapter"`) for `--kind adapter`, a model otherwise.
 * Without it a text file or an adapter registered as a base model is only found out when a
 * service loads it.
 */
import { stat } from "node:fs/promises";
import { AppError } from "../errors/index.js";
import { assertGgufFile } from "../model-source/gguf-magic.js";
import type { ModelKind } from "./types.js";

export async function assertFileMatchesKind(path: string, kind: ModelKind): Promise<void> {
  // A missing file is registerModel's to report (`not_found`).
  if (!(await stat(path).catch(() => undefined))?.isFile()) return;
  await assertGgufFile(path).catch((error: unknown) => {
    if (error instanceof AppError) {
      throw new AppError(error.code, `${error.message}: register a .gguf model or LoRA adapter`, { cause: error });
    }
    throw error;
  });
  const { readGgufFileInfo } = await import("node-llama-cpp");
  const info = await readGgufFileInfo(path, { readTensorInfo: false, logWarnings: false });
  const isAdapter = (info.metadata as { general?: { type?: unknown } }).general?.type === "adapter";
  if (kind === "base" && isAdapter) {
    throw new AppError(
      "configuration_error",
      `${path} is a LoRA adapter (general.type "adapter"): register it with --kind adapter --base <name>@<version|stage>`,
    );
  }
  if (kind === "adapter" && !isAdapter) {
    throw new AppError(
      "configuration_error",
      `${path} is a model, not a LoRA adapter (its general.type is not "adapter"): register it with --kind base`,
    );
  }
}
