/**
 * Generates LoRA adapter files in the GGUF layout llama.cpp's `llama_adapter_lora_init` loads
 * (GUIDE §6): `general.architecture` of the base, `general.type = "adapter"`,
 * `adapter.type = "lora"`, `adapter.lora.alpha`, and for each adapted weight W two F32 (or F16) tensors,
 * `<W>.lora_a` with ne = [W.ne[0], rank] and `<W>.lora_b` with ne = [rank, W.ne[1]]. Random
 * values, deterministic for a seed: the adapter changes a random base model's output.
 */
import type { GenerateGgufOptions } from "./generate-gguf.js";
import { type MetadataValue, type TensorSpec, writeGgufFile } from "./gguf-writer.js";
import { createRandom, deriveSeed, float32ToFloat16Bits } from "./random.js";

/** Weights of every layer, or `output` (the output projection, once). */
export type LoraTarget = "attn_q" | "attn_k" | "attn_v" | "attn_output" | "ffn_down" | "output";

export type GenerateLoraOptions = {
  /** The base model the adapter is for (its generator options). */
  base: Pick<GenerateGgufOptions, "architecture" | "embeddingLength" | "heads" | "headsKv" | "layers"> &
    /** Needed by the ffn_down and output targets. */
    Partial<Pick<GenerateGgufOptions, "feedForwardLength" | "vocabularySize">>;
  rank: number;
  /** adapter.lora.alpha; llama.cpp scales the update by alpha / rank (times the adapter's scale). */
  alpha: number;
  seed: number;
  /** Adapted weights in every layer; default attn_q and attn_v. */
  targets?: readonly LoraTarget[];
  /** Half-width of the uniform random values of A and B; default 0.5. */
  magnitude?: number;
  /** The type of the lora_a / lora_b tensors; default f32. */
  tensorType?: "f32" | "f16";
  /**
   * Writes an activated LoRA (aLoRA): `adapter.alora.invocation_tokens`, the tokens after which
   * llama.cpp applies the adapter.
   */
  aloraInvocationTokens?: readonly number[];
  /**
   * Also writes each layer's `blk.<n>.attn_norm.weight` (F32, all ones), as adapters trained with
   * the norms among the saved modules carry; llama.cpp's loader skips `*_norm.weight` tensors.
   */
  normWeights?: boolean;
  name?: string;
};

/** The (ne[0], ne[1]) of a base weight, as buildTensors in generate-gguf.ts lays them out. */
function weightShape(base: GenerateLoraOptions["base"], target: LoraTarget): [number, number] {
  const keyValueWidth = (base.embeddingLength / base.heads) * base.headsKv;
  if (target === "attn_k" || target === "attn_v") return [base.embeddingLength, keyValueWidth];
  if (target === "ffn_down") return [required(base.feedForwardLength, target), base.embeddingLength];
  if (target === "output") return [base.embeddingLength, required(base.vocabularySize, target)];
  return [base.embeddingLength, base.embeddingLength];
}

function required(value: number | undefined, target: LoraTarget): number {
  if (value === undefined) throw new Error(`generateLora: the ${target} target needs the base's sizes`);
  return value;
}

export async function generateLora(path: string, options: GenerateLoraOptions): Promise<void> {
  if (!Number.isInteger(options.rank) || options.rank < 1)
    throw new Error("generateLora: rank must be a positive integer");
  const magnitude = options.magnitude ?? 0.5;
  const tensors: TensorSpec[] = [];
  const targets = options.targets ?? ["attn_q", "attn_v"];
  const adapt = (weight: string, target: LoraTarget) => {
    const [inner, outer] = weightShape(options.base, target);
    for (const [suffix, dimensions] of [
      ["lora_a", [inner, options.rank]],
      ["lora_b", [options.rank, outer]],
    ] as const) {
      const random = createRandom(deriveSeed(options.seed, tensors.length));
      tensors.push({
        name: `${weight}.${suffix}`,
        dimensions,
        type: options.tensorType ?? "f32",
        fill: (output) => {
          for (let index = 0; index < output.length; index += 1) output[index] = (random() * 2 - 1) * magnitude;
        },
      });
    }
  };
  for (let layer = 0; layer < options.base.layers; layer += 1) {
    for (const target of targets) {
      if (target !== "output") adapt(`blk.${layer}.${target}.weight`, target);
    }
  }
  if (targets.includes("output")) adapt("output.weight", "output");
  if (options.normWeights === true) {
    for (let layer = 0; layer < options.base.layers; layer += 1) {
      tensors.push({
        name: `blk.${layer}.attn_norm.weight`,
        dimensions: [options.base.embeddingLength],
        type: "f32",
        fill: (output) => output.fill(1),
      });
    }
  }
  const metadata = new Map<string, MetadataValue>([
    ["general.architecture", { type: "string", value: options.base.architecture }],
    ["general.type", { type: "string", value: "adapter" }],
    ["general.name", { type: "string", value: options.name ?? "llm-twin-test-lora" }],
    ["general.alignment", { type: "uint32", value: 32 }],
    ["adapter.type", { type: "string", value: "lora" }],
    ["adapter.lora.alpha", { type: "float32", value: options.alpha }],
  ]);
  if (options.aloraInvocationTokens !== undefined) {
    metadata.set("adapter.alora.invocation_tokens", {
      type: "array",
      itemType: "uint32",
      value: options.aloraInvocationTokens,
    });
  }
  await writeGgufFile(path, metadata, tensors, float32ToFloat16Bits);
}
