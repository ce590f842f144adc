import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tinyModelPath } from "../../gguf/index.js";
import { createLlamaCppReranker, type LlamaCppReranker } from "./llama-cpp-reranker.js";

let reranker: LlamaCppReranker;
let cacheDir: string;

const documents = [
  "Paul writes about retrieval augmented generation",
  "vector search with a hybrid index",
  "the model generates text token by token",
  "hello world",
];

beforeAll(async () => {
  cacheDir = await mkdtemp(join(tmpdir(), "llm-twin-gguf-reranker-"));
  reranker = await createLlamaCppReranker({
    source: await tinyModelPath("reranker"),
    threads: 1,
    contextSize: 128,
    cacheDir,
  });
}, 60_000);

afterAll(async () => {
  await reranker?.[Symbol.asyncDispose]();
  await rm(cacheDir, { recursive: true, force: true });
});

describe("createLlamaCppReranker", () => {
  it("scores every document in order, within [0, 1]", async () => {
    expect(reranker.id).toMatch(/^gguf-rerank:reranker-[0-9a-f]{12}\.gguf@[0-9a-f]{12}$/);
    const scores = await reranker.score("what is rag", documents);
    expect(scores).toHaveLength(documents.length);
    for (const score of scores) {
      expect(score).toBeGreaterThanOrEqual(0);
      expect(score).toBeLessThanOrEqual(1);
    }
    expect(await reranker.score("what is rag", [])).toEqual([]);
  });

  it("gives a document the same score whatever its position or companions", async () => {
    const scores = await reranker.score("what is rag", documents);
    const reversed = await reranker.score("what is rag", [...documents].reverse());
    expect(reversed.reverse()).toEqual(scores);
    const [alone] = await reranker.score("what is rag", [documents[2] ?? ""]);
    expect(alone).toBe(scores[2]);
    const other = await reranker.score("hello world", documents);
    expect(other).not.toEqual(scores);
  });

  it("scores a document longer than the context by its chunks instead of failing", async () => {
    const long = Array.from({ length: 60 }, () => "vector search with a hybrid index").join(" ");
    const [score] = await reranker.score("what is rag", [long]);
    expect(score).toBeGreaterThanOrEqual(0);
    expect(score).toBeLessThanOrEqual(1);
  });

  it("stops when the signal aborts", async () => {
    const controller = new AbortController();
    const many = Array.from({ length: 40 }, (_, index) => `${documents[index % documents.length]} ${index}`);
    const pending = reranker.score("what is rag", many, { signal: controller.signal });
    queueMicrotask(() => controller.abort());
    await expect(pending).rejects.toMatchObject({ code: "aborted" });
  });

  it("refuses a model without a classifier head", async () => {
    await expect(
      createLlamaCppReranker({ source: await tinyModelPath("chat"), threads: 1, contextSize: 128, cacheDir }),
    ).rejects.toMatchObject({ code: "configuration_error", message: expect.stringContaining("not supported") });
  });
});
