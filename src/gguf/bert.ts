/**
 * Generates small, valid GGUF sentence-embedding models of the `bert` architecture with random
 * weights (deterministic for a seed): the layout of all-MiniLM-L6-v2 / bge-small-en-v1.5 GGUF
 * conversions. Learned position and token-type embeddings, post-norm blocks with biases, no output
 * head; `bert.pooling_type` (1 mean, 2 CLS) and a WordPiece vocabulary (`tokenizer.ggml.model =
 * "bert"`) in the converter's spelling: word-initial pieces carry the "▁" phantom space, word
 * continuations (WordPiece's `##x`) are stored bare, special tokens keep their brackets.
 */

import { endianness } from "node:os";
import { elementCount, type MetadataValue, type TensorSpec, writeGgufFile } from "./gguf-writer.js";
import { createRandom, deriveSeed, float32ToFloat16Bits } from "./random.js";
import { TOKEN_TYPE } from "./vocabulary.js";

/** llama.cpp's `llama_pooling_type`. */
export const BERT_POOLING = { mean: 1, cls: 2 } as const;
export type BertPooling = keyof typeof BERT_POOLING;

export type GenerateBertGgufOptions = {
  vocabularySize: number;
  embeddingLength: number;
  layers: number;
  heads: number;
  feedForwardLength: number;
  /** Longest input in tokens (the position embedding's length). */
  contextLength: number;
  pooling: BertPooling;
  fileType: "f32" | "f16";
  seed: number;
  /** general.name; default "llm-twin-test-bert". */
  name?: string;
};

export type GeneratedBertGguf = {
  path: string;
  parameterCount: number;
  sizeBytes: number;
  tokens: { pad: number; unknown: number; cls: number; separator: number; mask: number };
};

/** A tiny preset: 384 dimensions like MiniLM/bge-small, 2 layers, ~0.9 MB at F16. */
export const TINY_BERT_OPTIONS: GenerateBertGgufOptions = {
  vocabularySize: 600,
  embeddingLength: 384,
  layers: 2,
  heads: 4,
  feedForwardLength: 256,
  contextLength: 128,
  pooling: "mean",
  fileType: "f16",
  seed: 14,
};

const SPACE = "\u2581";
const SPECIAL = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] as const;
const WORDS = (
  "the a an of and to in is for on with as by that this it from at be are was or which model models " +
  "language large llm llms vector vectors search retrieval embedding embeddings article articles data " +
  "fine tuning tune training inference query queries document documents text token tokens rag twin " +
  "pipeline feature stream streaming quantization merge agent agents prompt answer what how why"
).split(" ");

export type BertVocabulary = { tokens: string[]; tokenTypes: number[] };

/** Specials, every single character as a word start and as a continuation, words, then filler pieces. */
export function buildBertVocabulary(size: number): BertVocabulary {
  const tokens: string[] = [...SPECIAL];
  const tokenTypes: number[] = SPECIAL.map(() => TOKEN_TYPE.control);
  const seen = new Set(tokens);
  const add = (token: string): void => {
    if (tokens.length >= size || seen.has(token)) return;
    seen.add(token);
    tokens.push(token);
    tokenTypes.push(TOKEN_TYPE.normal);
  };
  const characters = [..."abcdefghijklmnopqrstuvwxyz0123456789.,;:!?'\"()[]{}-_/+*=&%$#@<>|\\~`^"];
  for (const character of characters) add(`${SPACE}${character}`);
  for (const character of characters) add(character);
  for (const word of WORDS) add(`${SPACE}${word}`);
  for (const suffix of ["s", "ed", "ing", "er", "ly", "tion"]) add(suffix);
  for (let filler = 0; tokens.length < size; filler += 1) add(`${SPACE}w${filler.toString(36)}`);
  if (tokens.length < size) throw new Error(`generateBertGguf: cannot build a vocabulary of ${size} tokens`);
  return { tokens, tokenTypes };
}

function validate(options: GenerateBertGgufOptions): void {
  if (endianness() !== "LE") throw new Error("generateBertGguf: only little-endian hosts are supported");
  for (const key of [
    "vocabularySize",
    "embeddingLength",
    "layers",
    "heads",
    "feedForwardLength",
    "contextLength",
  ] as const) {
    const value = options[key];
    if (!Number.isInteger(value) || value <= 0) {
      throw new Error(`generateBertGguf: ${key} must be a positive integer, got ${String(value)}`);
    }
  }
  if (options.embeddingLength % options.heads !== 0) {
    throw new Error("generateBertGguf: embeddingLength must be divisible by heads");
  }
  if (options.vocabularySize < 200) throw new Error("generateBertGguf: vocabularySize must be at least 200");
  if (!(options.pooling in BERT_POOLING)) throw new Error(`generateBertGguf: unknown pooling ${options.pooling}`);
}

function buildTensors(options: GenerateBertGgufOptions): TensorSpec[] {
  const embedding = options.embeddingLength;
  const feedForward = options.feedForwardLength;
  const tensors: TensorSpec[] = [];
  const matrix = (
    name: string,
    inner: number,
    outer: number,
    scale = 1 / Math.sqrt(inner),
    type = options.fileType,
  ): void => {
    const random = createRandom(deriveSeed(options.seed, tensors.length));
    tensors.push({
      name,
      dimensions: [inner, outer],
      type,
      fill: (output) => {
        for (let index = 0; index < output.length; index += 1) output[index] = (random() * 2 - 1) * scale;
      },
    });
  };
  const constant = (name: string, length: number, value: number): void => {
    tensors.push({ name, dimensions: [length], type: "f32", fill: (output) => output.fill(value) });
  };
  const norm = (prefix: string): void => {
    constant(`${prefix}.weight`, embedding, 1);
    constant(`${prefix}.bias`, embedding, 0);
  };
  const linear = (prefix: string, inner: number, outer: number): void => {
    matrix(`${prefix}.weight`, inner, outer);
    constant(`${prefix}.bias`, outer, 0);
  };
  matrix("token_embd.weight", embedding, options.vocabularySize, 1);
  // Added to F32 activations as they are (no matrix product): F32, as the converters store them.
  matrix("token_types.weight", embedding, 2, 0.1, "f32");
  matrix("position_embd.weight", embedding, options.contextLength, 0.1, "f32");
  norm("token_embd_norm");
  for (let layer = 0; layer < options.layers; layer += 1) {
    const prefix = `blk.${layer}`;
    linear(`${prefix}.attn_q`, embedding, embedding);
    linear(`${prefix}.attn_k`, embedding, embedding);
    linear(`${prefix}.attn_v`, embedding, embedding);
    linear(`${prefix}.attn_output`, embedding, embedding);
    norm(`${prefix}.attn_output_norm`);
    linear(`${prefix}.ffn_up`, embedding, feedForward);
    linear(`${prefix}.ffn_down`, feedForward, embedding);
    norm(`${prefix}.layer_output_norm`);
  }
  return tensors;
}

function buildMetadata(options: GenerateBertGgufOptions): Map<string, MetadataValue> {
  const vocabulary = buildBertVocabulary(options.vocabularySize);
  const metadata = new Map<string, MetadataValue>();
  const u32 = (key: string, value: number): void => {
    metadata.set(key, { type: "uint32", value });
  };
  metadata.set("general.architecture", { type: "string", value: "bert" });
  metadata.set("general.name", { type: "string", value: options.name ?? "llm-twin-test-bert" });
  u32("general.file_type", options.fileType === "f32" ? 0 : 1);
  u32("general.alignment", 32);
  u32("bert.context_length", options.contextLength);
  u32("bert.embedding_length", options.embeddingLength);
  u32("bert.feed_forward_length", options.feedForwardLength);
  u32("bert.block_count", options.layers);
  u32("bert.attention.head_count", options.heads);
  metadata.set("bert.attention.layer_norm_epsilon", { type: "float32", value: 1e-12 });
  metadata.set("bert.attention.causal", { type: "bool", value: false });
  u32("bert.pooling_type", BERT_POOLING[options.pooling]);
  metadata.set("tokenizer.ggml.model", { type: "string", value: "bert" });
  metadata.set("tokenizer.ggml.tokens", { type: "array", itemType: "string", value: vocabulary.tokens });
  metadata.set("tokenizer.ggml.token_type", { type: "array", itemType: "int32", value: vocabulary.tokenTypes });
  u32("tokenizer.ggml.token_type_count", 2);
  u32("tokenizer.ggml.padding_token_id", 0);
  u32("tokenizer.ggml.unknown_token_id", 1);
  u32("tokenizer.ggml.cls_token_id", 2);
  u32("tokenizer.ggml.bos_token_id", 2);
  u32("tokenizer.ggml.seperator_token_id", 3);
  u32("tokenizer.ggml.eos_token_id", 3);
  u32("tokenizer.ggml.mask_token_id", 4);
  return metadata;
}

/** Writes the model to `path` through a temporary file renamed into place. */
export async function generateBertGguf(path: string, options: GenerateBertGgufOptions): Promise<GeneratedBertGguf> {
  validate(options);
  const tensors = buildTensors(options);
  const sizeBytes = await writeGgufFile(path, buildMetadata(options), tensors, float32ToFloat16Bits);
  const parameterCount = tensors.reduce((sum, tensor) => sum + elementCount(tensor.dimensions), 0);
  return { path, parameterCount, sizeBytes, tokens: { pad: 0, unknown: 1, cls: 2, separator: 3, mask: 4 } };
}
