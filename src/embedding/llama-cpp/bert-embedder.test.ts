/**
 * The GGUF embedder on the architecture real sentence-embedding models use (all-MiniLM-L6-v2,
 * bge-small-en-v1.5): a generated `bert` model with a WordPiece vocabulary, loaded by llama.cpp,
 * pooled by llama.cpp (mean or CLS, from `bert.pooling_type`) and normalised by the embedder.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateBertGguf, TINY_BERT_OPTIONS } from "../../gguf/index.js";
import { createLlamaCppEmbedder, type LlamaCppEmbedder } from "./index.js";

let directory: string;
let mean: LlamaCppEmbedder;
let cls: LlamaCppEmbedder;

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), "llm-twin-bert-embedder-"));
  const options = { threads: 1, cacheDir: directory, maxBatchSize: 4 };
  const meanModel = await generateBertGguf(join(directory, "mean.gguf"), TINY_BERT_OPTIONS);
  const clsModel = await generateBertGguf(join(directory, "cls.gguf"), { ...TINY_BERT_OPTIONS, pooling: "cls" });
  mean = await createLlamaCppEmbedder({ source: meanModel.path, ...options });
  cls = await createLlamaCppEmbedder({ source: clsModel.path, ...options });
}, 60_000);

afterAll(async () => {
  await Promise.all([mean?.[Symbol.asyncDispose](), cls?.[Symbol.asyncDispose]()]);
  await rm(directory, { recursive: true, force: true });
});

const norm = (vector: Float32Array): number => Math.sqrt(vector.reduce((sum, value) => sum + value * value, 0));
const cosine = (left: Float32Array, right: Float32Array): number =>
  left.reduce((sum, value, index) => sum + value * (right[index] ?? 0), 0);

describe("GGUF embedder on a generated BERT model", () => {
  it("reads dimensions and context from the bert.* keys", () => {
    expect(mean.dimensions).toBe(TINY_BERT_OPTIONS.embeddingLength);
    expect(mean.maxInputTokens).toBe(TINY_BERT_OPTIONS.contextLength - 1);
  });

  it("tokenizes with WordPiece: [CLS] and [SEP] added, word pieces, unknown words as one [UNK]", () => {
    // [CLS] the model [SEP]
    expect(mean.countTokens("the model")).toBe(4);
    // "modeling" = "▁model" + "ing"; upper case is folded
    expect(mean.countTokens("Modeling")).toBe(4);
    // a word with no piece becomes one [UNK]; each CJK character is a word of its own
    expect(mean.countTokens("the 日本")).toBe(5);
  });

  it("returns unit vectors, the same for a text alone or in a batch", async () => {
    const texts = ["the model writes an article", "vector search", "what is rag"];
    const vectors = await mean.embed(texts);
    expect(vectors).toHaveLength(3);
    for (const vector of vectors) {
      expect(vector).toHaveLength(TINY_BERT_OPTIONS.embeddingLength);
      expect(norm(vector)).toBeCloseTo(1, 5);
    }
    const [alone] = await mean.embed(["vector search"]);
    expect(cosine(alone ?? new Float32Array(), vectors[1] ?? new Float32Array())).toBeCloseTo(1, 5);
    expect(cosine(vectors[0] ?? new Float32Array(), vectors[1] ?? new Float32Array())).toBeLessThan(0.999);
  });

  it("pools as the model says: mean and CLS pooling of the same weights differ", async () => {
    const text = "fine tuning a large language model";
    const [meanVector] = await mean.embed([text]);
    const [clsVector] = await cls.embed([text]);
    expect(norm(clsVector ?? new Float32Array())).toBeCloseTo(1, 5);
    expect(cosine(meanVector ?? new Float32Array(), clsVector ?? new Float32Array())).toBeLessThan(0.999);
  });

  it("rejects a text longer than the position embedding instead of truncating it", async () => {
    const tooLong = Array.from({ length: TINY_BERT_OPTIONS.contextLength }, () => "model").join(" ");
    await expect(mean.embed([tooLong])).rejects.toMatchObject({ code: "input_too_long" });
  });
});
