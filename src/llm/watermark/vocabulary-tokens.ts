/**
 * Token ids of a text under a GGUF model's vocabulary, for the watermark detector: the model is
 * loaded vocabulary-only (no weights, fast), the text tokenized without special tokens.
 */
import { existsSync } from "node:fs";
import { AppError } from "../../errors/index.js";
import { withResources } from "../../runtime/index.js";
import { acquireLlama } from "../llama-cpp/shared-llama.js";

export async function tokenizeWithVocabulary(modelPath: string, text: string): Promise<number[]> {
  if (!existsSync(modelPath)) {
    throw new AppError(
      "model_not_found",
      `No model file at ${modelPath}: give the GGUF that generated the text with --model`,
    );
  }
  return withResources(async (stack) => {
    const shared = await acquireLlama();
    stack.defer("llama.cpp runtime", () => shared.release());
    let model: Awaited<ReturnType<typeof shared.llama.loadModel>>;
    try {
      model = stack.use("vocabulary", await shared.llama.loadModel({ modelPath, gpuLayers: 0, vocabOnly: true }));
    } catch (error) {
      throw new AppError("model_not_found", `Could not read the vocabulary of ${modelPath}: ${messageOf(error)}`, {
        cause: error,
      });
    }
    return Array.from(model.tokenize(text, false), Number);
  });
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
