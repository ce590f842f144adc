import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tinyModelPath } from "../../gguf/index.js";
import { createLlamaCppEmbedder, type LlamaCppEmbedder } from "./index.js";

let embedder: LlamaCppEmbedder;
let cacheDir: string;
let modelPath: string;

beforeAll(async () => {
  cacheDir = await mkdtemp(join(tmpdir(), "llm-twin-gguf-embedder-"));
  modelPath = await tinyModelPath("chat");
  embedder = await createLlamaCppEmbedder({
    source: modelPath,
    threads: 1,
    contextSize: 64,
    maxBatchSize: 8,
    cacheDir,
  });
}, 60_000);

afterAll(async () => {
  await embedder?.[Symbol.asyncDispose]();
  await rm(cacheDir, { recursive: true, force: true });
});

const norm = (vector: Float32Array): number => Math.sqrt(vector.reduce((sum, value) => sum + value * value, 0));

describe("createLlamaCppEmbedder", () => {
  it("describes itself from the model", () => {
    expect(embedder.id).toMatch(new RegExp(`^gguf:${basename(modelPath).replace(".", "\\.")}@[0-9a-f]{12}$`));
    expect(embedder.sha256.startsWith(embedder.id.split("@")[1] ?? "-")).toBe(true);
    expect(embedder.dimensions).toBe(64);
    expect(embedder.maxInputTokens).toBe(63);
    expect(embedder.maxBatchSize).toBe(8);
    expect(embedder.countTokens("hello world")).toBeLessThan(embedder.countTokens("hello world hello world"));
  });

  it("returns one unit vector per text, in order, deterministically", async () => {
    const texts = ["hello world", "the model writes an article", "", "vector search"];
    const vectors = await embedder.embed(texts);
    expect(vectors).toHaveLength(4);
    for (const vector of vectors) {
      expect(vector).toBeInstanceOf(Float32Array);
      expect(vector).toHaveLength(64);
      expect(norm(vector)).toBeCloseTo(1, 5);
    }
    const [single] = await embedder.embed(["the model writes an article"]);
    expect(Array.from(single ?? [])).toEqual(Array.from(vectors[1] ?? []));
    expect(Array.from(vectors[0] ?? [])).not.toEqual(Array.from(vectors[1] ?? []));
  });

  it("accepts a text exactly at the limit and rejects a longer one without truncating", async () => {
    let text = "hello";
    while (embedder.countTokens(`${text} world`) <= embedder.maxInputTokens) text += " world";
    expect(embedder.countTokens(text)).toBeLessThanOrEqual(embedder.maxInputTokens);
    await expect(embedder.embed([text])).resolves.toHaveLength(1);
    const tooLong = `${text} world world`;
    await expect(embedder.embed(["fine", tooLong])).rejects.toMatchObject({
      code: "input_too_long",
      details: { index: 1, tokens: embedder.countTokens(tooLong), maxInputTokens: embedder.maxInputTokens },
    });
  });

  it("stops on an aborted signal", async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(embedder.embed(["hello"], { signal: controller.signal })).rejects.toMatchObject({ code: "aborted" });
  });

  it("reports a missing model and bad settings with stable codes", async () => {
    await expect(createLlamaCppEmbedder({ modelPath: join(cacheDir, "nope.gguf"), cacheDir })).rejects.toMatchObject({
      code: "model_not_found",
    });
    await expect(createLlamaCppEmbedder({ modelPath, threads: 0, cacheDir })).rejects.toMatchObject({
      code: "configuration_error",
    });
  });
});
