/**
 * The library's answer/answerStream with an in-process model (README "Use it as a library"): the
 * prompt is fitted to the model's input limit as `llm-twin serve` fits it, so a context larger than
 * the model accepts is trimmed instead of failing with the model's 422.
 */
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tinyModelPath } from "../gguf/index.js";
import type { LlamaCppLanguageModel } from "../llm/llama-cpp/index.js";
import type { LanguageModel } from "../llm/port.js";
import { buildLlmServerApp } from "../llm-server/app.js";
import { createLlmServerMetrics } from "../llm-server/metrics.js";
import { createModelHolder } from "../llm-server/model-holder.js";
import { fakeEmbedder, fakeStore, sampleChunks } from "../rag/testing/fakes.js";
import type { RagPart } from "../rag/types.js";
import { testEngineBackend } from "../testing/engine-backend.js";
import { answer, answerStream } from "./rag.js";
import { createLanguageModel } from "./resources.js";

let llm: LlamaCppLanguageModel;
let app: ReturnType<typeof buildLlmServerApp> | undefined;

beforeAll(async () => {
  llm = (await createLanguageModel({
    model: await tinyModelPath("chat"),
    threads: 1,
    parallel: 1,
    contextSize: 512,
    ...testEngineBackend(),
  })) as LlamaCppLanguageModel;
});
afterAll(async () => {
  await app?.close();
  await llm?.[Symbol.asyncDispose]();
});

function inputs(model: LanguageModel = llm) {
  const embedder = fakeEmbedder();
  // More context than 512 tokens hold: every sample chunk, three times over.
  const chunks = [...sampleChunks(), ...sampleChunks(), ...sampleChunks()].map((chunk, index) => ({
    ...chunk,
    id: `${chunk.id}-${index}`,
  }));
  return {
    store: fakeStore(chunks, embedder),
    embedder,
    llm: model,
    k: 9,
    selfQuery: "off" as const,
    maxNewTokens: 8,
    config: { expandQueries: 1, contextTokenBudget: 4_000 },
  };
}

describe("answer and answerStream with an in-process model", () => {
  it("answer trims the context to the model's input limit", async () => {
    const response = await answer({ query: "Write about RAG", ...inputs() });
    expect(response.answer).toEqual(expect.any(String));
    expect(response.usage.promptTokens).toBeLessThanOrEqual(llm.engine.limits.maxInputTokens);
    expect(response.sources.length).toBeLessThan(9);
  });

  it("answerStream ends with done, not with the model's input-limit error", async () => {
    const parts: RagPart[] = [];
    for await (const part of answerStream({ query: "Write about RAG", ...inputs() })) parts.push(part);
    expect(parts.find((part) => part.type === "error")).toBeUndefined();
    expect(parts.at(-1)?.type).toBe("done");
  });
});

describe("answer with a model served over HTTP (createLanguageModel({ url }))", () => {
  it("learns the service's input limit from its /info and trims the context to it", async () => {
    const holder = createModelHolder();
    app = buildLlmServerApp({ holder, metrics: createLlmServerMetrics(holder), bodyLimitBytes: 1 << 20 });
    holder.setReady(llm.engine);
    await app.listen({ host: "127.0.0.1", port: 0 });
    const remote = await createLanguageModel({ url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}` });
    try {
      const response = await answer({ query: "Write about RAG", ...inputs(remote) });
      expect(response.answer).toEqual(expect.any(String));
      expect(response.usage.promptTokens).toBeLessThanOrEqual(llm.engine.limits.maxInputTokens);
    } finally {
      await remote[Symbol.asyncDispose]();
    }
  });
});
