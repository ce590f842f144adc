/**
 * Generates small, valid GGUF models with random weights (deterministic for a given seed) for
 * tests and benchmarks: the `llama` architecture for generation, chat and embeddings, and `qwen3`
 * with a classifier head for reranking (the layout of Qwen3-Reranker GGUFs).
 */

import { endianness } from "node:os";
import { elementCount, type MetadataValue, type TensorSpec, writeGgufFile } from "./gguf-writer.js";
import { createRandom, deriveSeed, float32ToFloat16Bits } from "./random.js";
import { buildVocabulary, CHATML_TEMPLATE, RERANK_TEMPLATE } from "./vocabulary.js";

export type GgufArchitecture = "llama" | "qwen3";

export type GenerateGgufOptions = {
  architecture: GgufArchitecture;
  vocabularySize: number;
  embeddingLength: number;
  layers: number;
  heads: number;
  headsKv: number;
  feedForwardLength: number;
  contextLength: number;
  /** Storage type of the 2-D weight matrices; 1-D norm weights are always F32. */
  fileType: "f32" | "f16";
  seed: number;
  /**
   * Makes a reranker: a `cls.output.weight` head [n_embd, labels], `<arch>.pooling_type = 4` (rank),
   * `<arch>.classifier.output_labels`, and a `tokenizer.chat_template.rerank`. Use the `qwen3`
   * architecture. With two labels (["yes", "no"], as real Qwen3-Reranker GGUFs) llama.cpp's softmax
   * yields P(yes), a score in (0, 1); with a single label every score is exactly 1.
   */
  reranker?: { labels: readonly string[] };
  /** general.name; defaults to "llm-twin-test-<architecture>". */
  name?: string;
  /** tokenizer.chat_template; default CHATML_TEMPLATE (a template using `tools` tests tool prompts). */
  chatTemplate?: string;
};

export type GeneratedGguf = {
  path: string;
  parameterCount: number;
  sizeBytes: number;
  tokens: { bos: number; eos: number; imStart: number; imEnd: number; unknown: number };
};

function validate(options: GenerateGgufOptions): void {
  if (endianness() !== "LE") throw new Error("generateGguf: only little-endian hosts are supported");
  const positive: (keyof GenerateGgufOptions)[] = [
    "vocabularySize",
    "embeddingLength",
    "layers",
    "heads",
    "headsKv",
    "feedForwardLength",
    "contextLength",
  ];
  for (const key of positive) {
    const value = options[key];
    if (typeof value !== "number" || !Number.isInteger(value) || value <= 0) {
      throw new Error(`generateGguf: ${key} must be a positive integer, got ${String(value)}`);
    }
  }
  if (options.embeddingLength % options.heads !== 0) {
    throw new Error("generateGguf: embeddingLength must be divisible by heads");
  }
  if (options.heads % options.headsKv !== 0) throw new Error("generateGguf: heads must be divisible by headsKv");
  if (((options.embeddingLength / options.heads) & 1) !== 0) {
    throw new Error("generateGguf: the head dimension (embeddingLength / heads) must be even for RoPE");
  }
  if (options.reranker !== undefined && options.reranker.labels.length === 0) {
    throw new Error("generateGguf: reranker.labels must not be empty");
  }
}

function uniformFill(seed: number, scale: number): TensorSpec["fill"] {
  const random = createRandom(seed);
  return (output) => {
    for (let index = 0; index < output.length; index += 1) output[index] = (random() * 2 - 1) * scale;
  };
}

const onesFill: TensorSpec["fill"] = (output) => {
  output.fill(1);
};

function buildTensors(options: GenerateGgufOptions): TensorSpec[] {
  const embedding = options.embeddingLength;
  const headDimension = embedding / options.heads;
  const keyValueWidth = headDimension * options.headsKv;
  const feedForward = options.feedForwardLength;
  const matrixType = options.fileType;
  const tensors: TensorSpec[] = [];
  const matrix = (name: string, inner: number, outer: number, scale = 1 / Math.sqrt(inner)): void => {
    tensors.push({
      name,
      dimensions: [inner, outer],
      type: matrixType,
      fill: uniformFill(deriveSeed(options.seed, tensors.length), scale),
    });
  };
  const vector = (name: string, length: number): void => {
    tensors.push({ name, dimensions: [length], type: "f32", fill: onesFill });
  };
  matrix("token_embd.weight", embedding, options.vocabularySize, 1);
  for (let layer = 0; layer < options.layers; layer += 1) {
    const prefix = `blk.${layer}`;
    vector(`${prefix}.attn_norm.weight`, embedding);
    matrix(`${prefix}.attn_q.weight`, embedding, embedding);
    matrix(`${prefix}.attn_k.weight`, embedding, keyValueWidth);
    matrix(`${prefix}.attn_v.weight`, embedding, keyValueWidth);
    matrix(`${prefix}.attn_output.weight`, embedding, embedding);
    if (options.architecture === "qwen3") {
      vector(`${prefix}.attn_q_norm.weight`, headDimension);
      vector(`${prefix}.attn_k_norm.weight`, headDimension);
    }
    vector(`${prefix}.ffn_norm.weight`, embedding);
    matrix(`${prefix}.ffn_gate.weight`, embedding, feedForward);
    matrix(`${prefix}.ffn_up.weight`, embedding, feedForward);
    matrix(`${prefix}.ffn_down.weight`, feedForward, embedding);
  }
  vector("output_norm.weight", embedding);
  matrix("output.weight", embedding, options.vocabularySize);
  if (options.reranker !== undefined) {
    matrix("cls.output.weight", embedding, options.reranker.labels.length);
  }
  return tensors;
}

function buildMetadata(options: GenerateGgufOptions): {
  metadata: Map<string, MetadataValue>;
  tokens: GeneratedGguf["tokens"];
} {
  const vocabulary = buildVocabulary(options.vocabularySize);
  const architecture = options.architecture;
  const metadata = new Map<string, MetadataValue>();
  const u32 = (key: string, value: number): void => {
    metadata.set(key, { type: "uint32", value });
  };
  metadata.set("general.architecture", { type: "string", value: architecture });
  metadata.set("general.name", { type: "string", value: options.name ?? `llm-twin-test-${architecture}` });
  u32("general.file_type", options.fileType === "f32" ? 0 : 1);
  u32("general.alignment", 32);
  u32(`${architecture}.vocab_size`, options.vocabularySize);
  u32(`${architecture}.context_length`, options.contextLength);
  u32(`${architecture}.embedding_length`, options.embeddingLength);
  u32(`${architecture}.block_count`, options.layers);
  u32(`${architecture}.feed_forward_length`, options.feedForwardLength);
  u32(`${architecture}.attention.head_count`, options.heads);
  u32(`${architecture}.attention.head_count_kv`, options.headsKv);
  u32(`${architecture}.rope.dimension_count`, options.embeddingLength / options.heads);
  metadata.set(`${architecture}.rope.freq_base`, { type: "float32", value: 10000 });
  metadata.set(`${architecture}.attention.layer_norm_rms_epsilon`, { type: "float32", value: 1e-6 });
  if (options.reranker !== undefined) {
    u32(`${architecture}.pooling_type`, 4);
    metadata.set(`${architecture}.classifier.output_labels`, {
      type: "array",
      itemType: "string",
      value: options.reranker.labels,
    });
  }
  metadata.set("tokenizer.ggml.model", { type: "string", value: "llama" });
  metadata.set("tokenizer.ggml.tokens", { type: "array", itemType: "string", value: vocabulary.tokens });
  metadata.set("tokenizer.ggml.scores", { type: "array", itemType: "float32", value: vocabulary.scores });
  metadata.set("tokenizer.ggml.token_type", { type: "array", itemType: "int32", value: vocabulary.tokenTypes });
  u32("tokenizer.ggml.bos_token_id", vocabulary.bosTokenId);
  u32("tokenizer.ggml.eos_token_id", vocabulary.eosTokenId);
  u32("tokenizer.ggml.unknown_token_id", vocabulary.unknownTokenId);
  u32("tokenizer.ggml.padding_token_id", vocabulary.eosTokenId);
  metadata.set("tokenizer.ggml.add_bos_token", { type: "bool", value: true });
  metadata.set("tokenizer.ggml.add_eos_token", { type: "bool", value: false });
  metadata.set("tokenizer.chat_template", { type: "string", value: options.chatTemplate ?? CHATML_TEMPLATE });
  if (options.reranker !== undefined) {
    metadata.set("tokenizer.chat_template.rerank", { type: "string", value: RERANK_TEMPLATE });
  }
  return {
    metadata,
    tokens: {
      bos: vocabulary.bosTokenId,
      eos: vocabulary.eosTokenId,
      imStart: vocabulary.imStartTokenId,
      imEnd: vocabulary.imEndTokenId,
      unknown: vocabulary.unknownTokenId,
    },
  };
}

/**
 * Writes a GGUF v3 model to `path` (through a temporary file renamed into place, so readers never
 * see a partial file). Weights are streamed to disk chunk by chunk.
 */
export async function generateGguf(path: string, options: GenerateGgufOptions): Promise<GeneratedGguf> {
  validate(options);
  const tensors = buildTensors(options);
  const { metadata, tokens } = buildMetadata(options);
  const sizeBytes = await writeGgufFile(path, metadata, tensors, float32ToFloat16Bits);
  const parameterCount = tensors.reduce((sum, tensor) => sum + elementCount(tensor.dimensions), 0);
  return { path, parameterCount, sizeBytes, tokens };
}
