import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tinyModelPath } from "../../src/gguf/index.js";
import { createLlamaCppLanguageModel, type LlamaCppLanguageModel } from "../../src/llm/llama-cpp/index.js";
import { testEngineBackend } from "../../src/testing/engine-backend.js";

let llm: LlamaCppLanguageModel;
beforeAll(async () => {
  llm = await createLlamaCppLanguageModel({
    modelPath: await tinyModelPath("chat"),
    modelId: "twin",
    threads: 1,
    parallel: 2,
    ...testEngineBackend(),
  });
});
afterAll(async () => {
  await llm?.[Symbol.asyncDispose]();
});

describe("the in-process LanguageModel adapter", () => {
  it("generates from a prompt and from chat messages, with usage", async () => {
    const fromPrompt = await llm.generate({ prompt: "Hello", maxNewTokens: 5, logitBias: { 400: 100 } });
    expect(fromPrompt.finishReason).toBe("length");
    expect(fromPrompt.usage.completionTokens).toBe(5);
    const fromChat = await llm.generate({ messages: [{ role: "user", content: "Hi" }], maxNewTokens: 3 });
    expect(fromChat.usage.promptTokens).toBeGreaterThan(5);
    expect(llm.id).toBe("twin");
    expect(await llm.health()).toBe(true);
  });

  it("streams token parts then exactly one done part whose text matches generate()", async () => {
    const request = { prompt: "Stream", maxNewTokens: 12, temperature: 0 } as const;
    const parts = [];
    for await (const part of llm.stream(request)) parts.push(part);
    expect(parts.filter((part) => part.type === "done")).toHaveLength(1);
    expect(parts.at(-1)?.type).toBe("done");
    const streamed = parts.map((part) => (part.type === "token" ? part.text : "")).join("");
    expect(streamed).toBe((await llm.generate(request)).text);
  });

  it("decodes concurrent generations in one batch, in sequence order", async () => {
    const before = llm.engine.stats().decode;
    // A long generation and a short one started together: the short one's tokens are decoded in
    // the long one's batches (the native loop does not wait for late joiners, so the long one
    // must still be running when the short one starts; ~1 ms apart here).
    const long = { prompt: "Together", maxNewTokens: 300, logitBias: { 400: 100 } } as const;
    const short = { ...long, maxNewTokens: 24 } as const;
    const results = await Promise.all([llm.generate(long), llm.generate(short)]);
    expect(results.map((result) => result.usage.completionTokens)).toEqual([300, 24]);
    const after = llm.engine.stats().decode;
    const batches = after.batches - before.batches;
    const tokens = after.tokens - before.tokens;
    expect(batches).toBeGreaterThan(0);
    // 324 generated tokens (plus the prompts): at least half of the short one's shared a batch.
    expect(batches).toBeLessThan(324 - 12);
    expect(tokens).toBeGreaterThanOrEqual(324);
    // Every batch item's sequence was known, so llama.cpp got them in ascending sequence order
    // (out of order, it splits the batch into one pass per run of consecutive ids).
    expect(after.itemsWithoutSequence).toBe(0);
  });

  it("stops when the signal aborts and frees the sequence", async () => {
    const controller = new AbortController();
    let tokens = 0;
    const consume = (async () => {
      for await (const part of llm.stream({
        prompt: "Long",
        maxNewTokens: 1500,
        logitBias: { 400: 100 },
        signal: controller.signal,
      })) {
        if (part.type === "token") tokens += 1;
        if (tokens === 3) controller.abort();
      }
    })();
    await expect(consume).rejects.toMatchObject({ code: "aborted" });
    expect(tokens).toBeLessThan(10);
    expect(llm.engine.stats().sequencesInUse).toBe(0);
  });
});
