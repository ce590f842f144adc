/**
 * The Embedder contract: one suite every adapter passes (GGUF on llama.cpp, HTTP/OpenAI-style),
 * the way the vector stores share src/vector-store/contract.ts. Call it inside a test file with a
 * setup that returns a ready embedder; the suite disposes it at the end.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Embedder } from "../port.js";

const norm = (vector: Float32Array): number => Math.sqrt(vector.reduce((sum, value) => sum + value * value, 0));
const cosine = (left: Float32Array | undefined, right: Float32Array | undefined): number =>
  (left ?? new Float32Array()).reduce((sum, value, index) => sum + value * (right?.[index] ?? 0), 0);

export function describeEmbedderContract(name: string, setup: () => Promise<Embedder>): void {
  describe(`Embedder contract: ${name}`, () => {
    let embedder: Embedder;
    beforeAll(async () => {
      embedder = await setup();
    }, 120_000);
    afterAll(async () => {
      await embedder?.[Symbol.asyncDispose]();
    });

    it("describes itself: a stable id, dimensions and limits as positive integers", () => {
      expect(typeof embedder.id).toBe("string");
      expect(embedder.id.length).toBeGreaterThan(0);
      for (const value of [embedder.dimensions, embedder.maxInputTokens, embedder.maxBatchSize]) {
        expect(Number.isInteger(value)).toBe(true);
        expect(value).toBeGreaterThan(0);
      }
      expect(typeof embedder[Symbol.asyncDispose]).toBe("function");
      // One release verb (src/runtime): no close() or dispose() beside it.
      expect("dispose" in embedder || "close" in embedder).toBe(false);
    });

    it("returns one unit vector of `dimensions` per text, in order, the same alone or in a batch", async () => {
      const texts = ["the model writes an article", "vector search", "what is rag"];
      const vectors = await embedder.embed(texts);
      expect(vectors).toHaveLength(texts.length);
      for (const vector of vectors) {
        expect(vector).toBeInstanceOf(Float32Array);
        expect(vector).toHaveLength(embedder.dimensions);
        expect(norm(vector)).toBeCloseTo(1, 4);
      }
      const [alone] = await embedder.embed(["vector search"]);
      expect(cosine(alone, vectors[1])).toBeCloseTo(1, 4);
      expect(cosine(vectors[0], vectors[1])).toBeLessThan(0.999);
    });

    it("embeds nothing for no texts, and more texts than maxBatchSize in one call", async () => {
      expect(await embedder.embed([])).toEqual([]);
      const count = Math.min(embedder.maxBatchSize + 1, 80);
      const texts = Array.from({ length: count }, (_, index) => `document number ${index}`);
      const vectors = await embedder.embed(texts);
      expect(vectors).toHaveLength(count);
      const [last] = await embedder.embed([texts[count - 1] ?? ""]);
      expect(cosine(vectors[count - 1], last)).toBeCloseTo(1, 4);
    });

    it("counts tokens: at least one for a word, more for a longer text", () => {
      const short = embedder.countTokens("model");
      expect(short).toBeGreaterThanOrEqual(1);
      expect(embedder.countTokens("model ".repeat(20))).toBeGreaterThan(short);
    });

    it("refuses a text longer than its limit with input_too_long instead of truncating it", async () => {
      const tooLong = "model ".repeat(embedder.maxInputTokens + 8);
      await expect(embedder.embed(["short text", tooLong])).rejects.toMatchObject({ code: "input_too_long" });
    });

    it("stops with `aborted` when the signal is already aborted", async () => {
      const controller = new AbortController();
      controller.abort();
      await expect(embedder.embed(["a text"], { signal: controller.signal })).rejects.toMatchObject({
        code: "aborted",
      });
    });
  });
}
