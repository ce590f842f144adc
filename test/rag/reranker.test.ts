/** Retrieval with the GGUF reranker (a tiny generated Qwen3-style ranking model) instead of fusion. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tinyModelPath } from "../../src/gguf/index.js";
import { resolveRagConfig } from "../../src/rag/config.js";
import { createLlamaCppReranker, type LlamaCppReranker } from "../../src/rag/rerank/llama-cpp-reranker.js";
import { retrieve } from "../../src/rag/retrieve.js";
import { fakeEmbedder, fakeStore, sampleChunks } from "../../src/rag/testing/fakes.js";

describe("retrieval with a GGUF reranker", () => {
  let reranker: LlamaCppReranker;
  beforeAll(async () => {
    reranker = await createLlamaCppReranker({ modelPath: await tinyModelPath("reranker"), threads: 1 });
  });
  afterAll(async () => {
    await reranker?.[Symbol.asyncDispose]();
  });

  it("scores the fused candidates against the original query and keeps the best k by that score", async () => {
    const embedder = fakeEmbedder();
    const store = fakeStore(sampleChunks(), fakeEmbedder());
    const query = "How do RAG pipelines use LLMs?";
    const result = await retrieve(
      { query, k: 2 },
      { store, embedder, reranker, config: resolveRagConfig({ expandQueries: 1, retrievalMode: "dense" }) },
    );
    expect(result.sources).toHaveLength(2);
    const everything = sampleChunks().map((chunk) => chunk.text);
    const scores = await reranker.score(query, everything);
    const expected = everything
      .map((text, index) => ({ text, score: scores[index] ?? 0 }))
      .sort((left, right) => right.score - left.score)
      .slice(0, 2);
    expect(result.sources.map((source) => source.text)).toEqual(expected.map((item) => item.text));
    expect(result.sources[0]?.score).toBeCloseTo(expected[0]?.score ?? 0, 5);
  });
});
