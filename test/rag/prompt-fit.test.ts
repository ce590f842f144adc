/**
 * One-process (in-process llama.cpp, exact token counts) and split (the LLM service over HTTP,
 * limits from its /info and calibrated estimates) fit the prompt to a small-context model the same
 * way: "hi" is answered in both, the context is trimmed first (never the query), and a response
 * lists only the sources that reached the prompt.
 */
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tinyModelPath } from "../../src/gguf/index.js";
import { createTgiLanguageModel } from "../../src/llm/clients/index.js";
import type { LanguageModel, LanguageModelInput } from "../../src/llm/index.js";
import { createLlamaCppLanguageModel, type LlamaCppLanguageModel } from "../../src/llm/llama-cpp/index.js";
import { buildLlmServerApp } from "../../src/llm-server/app.js";
import { createLlmServerMetrics } from "../../src/llm-server/metrics.js";
import { createModelHolder } from "../../src/llm-server/model-holder.js";
import { answerOnce } from "../../src/rag/answer.js";
import { resolveRagConfig } from "../../src/rag/config.js";
import type { RagDependencies } from "../../src/rag/retrieve.js";
import { readTgiPromptLimit } from "../../src/rag/service/llm-limits.js";
import { inProcessPromptLimit } from "../../src/rag/service/run.js";
import { fakeEmbedder, fakeStore, sampleChunks } from "../../src/rag/testing/fakes.js";
import { testEngineBackend } from "../../src/testing/engine-backend.js";

let llm: LlamaCppLanguageModel;
let app: ReturnType<typeof buildLlmServerApp>;
let url: string;

beforeAll(async () => {
  llm = await createLlamaCppLanguageModel({
    modelPath: await tinyModelPath("chat"),
    threads: 1,
    parallel: 1,
    contextSize: 512,
    ...testEngineBackend(),
  });
  const holder = createModelHolder();
  app = buildLlmServerApp({ holder, metrics: createLlmServerMetrics(holder), bodyLimitBytes: 1 << 20 });
  holder.setReady(llm.engine);
  await app.listen({ host: "127.0.0.1", port: 0 });
  url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await app?.close();
  await llm?.[Symbol.asyncDispose]();
});

/** Records the prompts an LLM is given. */
function recording(inner: LanguageModel): LanguageModel & { prompts: string[] } {
  const prompts: string[] = [];
  const text = (input: LanguageModelInput) =>
    "prompt" in input ? input.prompt : input.messages.map((message) => message.content).join("\n");
  return {
    ...inner,
    id: inner.id,
    prompts,
    generate: (request) => {
      prompts.push(text(request));
      return inner.generate(request);
    },
    stream: (request) => {
      prompts.push(text(request));
      return inner.stream(request);
    },
  };
}

async function modes(): Promise<Array<{ name: string; deps: RagDependencies; prompts: string[] }>> {
  const embedder = fakeEmbedder();
  const store = fakeStore(sampleChunks(), embedder);
  const config = resolveRagConfig({ expandQueries: 1, selfQuery: "off", k: 3 });
  const local = recording(llm);
  const remote = recording(createTgiLanguageModel({ url }));
  const remoteLimit = await readTgiPromptLimit(url, 5000);
  expect(remoteLimit?.maxInputTokens).toBe(llm.engine.limits.maxInputTokens);
  return [
    {
      name: "one process",
      deps: { store, embedder, llm: local, config, ...inProcessPromptLimit(llm.engine) },
      prompts: local.prompts,
    },
    {
      name: "split",
      deps: {
        store,
        embedder,
        llm: remote,
        config,
        ...(remoteLimit === undefined ? {} : { promptLimit: remoteLimit }),
      },
      prompts: remote.prompts,
    },
  ];
}

describe("prompt fitting with a small-context model", () => {
  it("answers a short query in both modes, listing only the sources in the prompt", async () => {
    for (const mode of await modes()) {
      // The default maxNewTokens (150) leaves little room in 512 tokens: the context gives way.
      const response = await answerOnce({ query: "hi" }, mode.deps);
      expect(response.answer, mode.name).toEqual(expect.any(String));
      const prompt = mode.prompts.at(-1) ?? "";
      expect(prompt, mode.name).toContain("hi");
      const headers = prompt.match(/^\[\d+\] /gm) ?? [];
      expect(response.sources.length, mode.name).toBe(headers.length);
      for (const source of response.sources) expect(prompt, mode.name).toContain(source.title);
    }
  });

  it("gives the context room when the answer is short, in both modes", async () => {
    for (const mode of await modes()) {
      const response = await answerOnce({ query: "hi", maxNewTokens: 8 }, mode.deps);
      expect(response.sources.length, mode.name).toBeGreaterThan(0);
      const prompt = mode.prompts.at(-1) ?? "";
      expect((prompt.match(/^\[\d+\] /gm) ?? []).length, mode.name).toBe(response.sources.length);
    }
  });

  it("fits the most recent turns in what the context leaves, oldest dropped first, in both modes", async () => {
    const history = Array.from({ length: 20 }, (_, index) => ({
      role: index % 2 === 0 ? ("user" as const) : ("assistant" as const),
      content: `turn${index} ${"words about retrieval and fine-tuning ".repeat(3)}`,
    }));
    for (const mode of await modes()) {
      // The context comes first: a small context budget leaves the rest of the 512 tokens to the turns.
      const deps = { ...mode.deps, config: { ...mode.deps.config, contextTokenBudget: 60 } };
      const response = await answerOnce({ query: "hi", maxNewTokens: 8, history, condense: "off" }, deps);
      expect(response.historyTurnsUsed, mode.name).toBeGreaterThan(0);
      expect(response.historyTurnsUsed, mode.name).toBeLessThan(history.length);
      const prompt = mode.prompts.at(-1) ?? "";
      expect(prompt, mode.name).toContain("turn19 ");
      expect(prompt, mode.name).not.toContain("turn0 ");
      expect(prompt, mode.name).toContain(`turn${history.length - response.historyTurnsUsed} `);
      expect(prompt, mode.name).not.toContain(`turn${history.length - response.historyTurnsUsed - 1} `);
    }
  });

  it("a query longer than the model's input is 422 input_too_long in both modes", async () => {
    for (const mode of await modes()) {
      await expect(answerOnce({ query: "word ".repeat(400) }, mode.deps), mode.name).rejects.toMatchObject({
        code: "input_too_long",
      });
    }
  });
});
