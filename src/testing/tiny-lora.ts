/** LoRA adapter files for the tiny chat model (generateLora), as the LoRA tests write them. */
import path from "node:path";
import { type GenerateLoraOptions, generateLora, TINY_MODEL_PRESETS } from "../gguf/index.js";

export type TinyLoraOptions = Partial<GenerateLoraOptions> & Pick<GenerateLoraOptions, "seed">;

/**
 * Writes `<directory>/<name>`, an adapter of the tiny chat model of rank 2 and alpha equal to its
 * rank unless `options` say otherwise (they may name another base); gives its path.
 */
export async function writeTinyLora(directory: string, name: string, options: TinyLoraOptions): Promise<string> {
  const file = path.join(directory, name);
  const rank = options.rank ?? 2;
  await generateLora(file, { base: TINY_MODEL_PRESETS.chat, rank, alpha: rank, ...options });
  return file;
}

/**
 * The --lora-mode tests' two adapters in `directory`: alice.gguf, a plain one llama.cpp can apply
 * per token, and bob.gguf, an activated LoRA (aLoRA, invoked by tokens 5 and 6), which it cannot.
 */
export async function writePlainAndActivatedLoras(directory: string): Promise<{ plain: string; activated: string }> {
  return {
    plain: await writeTinyLora(directory, "alice.gguf", { seed: 5 }),
    activated: await writeTinyLora(directory, "bob.gguf", { seed: 6, aloraInvocationTokens: [5, 6] }),
  };
}
