/**
 * LoRA adapters in the native loop, on generated adapters (src/gguf/generate-lora.ts) for
 * the tiny chat model: an adapter changes greedy output, scale 0 equals the base, jobs of different
 * adapters decoded concurrently each get their own output, and an adapter for another base model is
 * refused when the loop loads.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { getLlama, type Llama } from "node-llama-cpp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateLora, TINY_MODEL_PRESETS, tinyModelPath } from "../../../gguf/index.js";
import { createNativeLoop, loadedLibllamaPath, type NativeGenerationLoop, nativeAddonBuilt } from "./addon.js";

function greedy(loop: NativeGenerationLoop, slot: number, prompt: number[], adapter?: number): Promise<number[]> {
  return new Promise((resolve, reject) => {
    const tokens: number[] = [];
    const params = { maxTokens: 12, ignoreEos: true, ...(adapter === undefined ? {} : { adapter }) };
    loop.start(slot, Uint32Array.from(prompt), params, (token, _logprob, done, error) => {
      if (token !== undefined) tokens.push(token);
      if (done === "error") reject(new Error(error));
      else if (done !== undefined) resolve(tokens);
    });
  });
}

describe.skipIf(!nativeAddonBuilt())("LoRA adapters in the native loop", () => {
  let llama: Llama;
  let directory: string;
  let loop: NativeGenerationLoop;
  let adapterPath: string;
  const options = async () => ({
    libraryPath: loadedLibllamaPath(),
    modelPath: await tinyModelPath("chat"),
    contextSize: 128,
    sequences: 2,
    batchSize: 32,
    threads: 1,
    flashAttention: "auto" as const,
  });
  beforeAll(async () => {
    llama = await getLlama({ gpu: false, build: "never", logLevel: "error" as never });
    directory = await mkdtemp(path.join(tmpdir(), "llm-twin-lora-"));
    adapterPath = path.join(directory, "style.gguf");
    await generateLora(adapterPath, { base: TINY_MODEL_PRESETS.chat, rank: 4, alpha: 4, seed: 7 });
    loop = await createNativeLoop({
      ...(await options()),
      loras: [
        { path: adapterPath, scale: 1 },
        { path: adapterPath, scale: 0 },
      ],
    });
  });
  afterAll(async () => {
    loop?.dispose();
    await llama?.dispose();
    if (directory !== undefined) await rm(directory, { recursive: true, force: true });
  });

  it("changes greedy output with an adapter; scale 0 equals the base", async () => {
    const prompt = [1, 20, 21, 22];
    const base = await greedy(loop, 0, prompt);
    const adapted = await greedy(loop, 0, prompt, 0);
    expect(adapted).not.toEqual(base);
    expect(await greedy(loop, 1, prompt, 1)).toEqual(base);
    // The prompt cache is per adapter: the same prompt again on the base is still the base's.
    expect(await greedy(loop, 0, prompt)).toEqual(base);
  });

  it("decodes jobs of different adapters concurrently, each with its own output", async () => {
    const prompt = [1, 30, 31];
    const base = await greedy(loop, 0, prompt);
    const adapted = await greedy(loop, 1, prompt, 0);
    for (let round = 0; round < 3; round += 1) {
      const [first, second] = await Promise.all([greedy(loop, 0, prompt, 0), greedy(loop, 1, prompt)]);
      expect(first).toEqual(adapted);
      expect(second).toEqual(base);
    }
  });

  it("refuses an out-of-range adapter index at start", () => {
    expect(() => loop.start(0, Uint32Array.from([1, 2]), { maxTokens: 1, adapter: 2 }, () => undefined)).toThrow(
      /adapter/,
    );
  });

  it("refuses, at load, an adapter made for another base model", async () => {
    const other = path.join(directory, "other-base.gguf");
    await generateLora(other, {
      base: { ...TINY_MODEL_PRESETS.chat, embeddingLength: 128, heads: 4, headsKv: 4 },
      rank: 4,
      alpha: 4,
      seed: 8,
    });
    await expect(createNativeLoop({ ...(await options()), loras: [{ path: other, scale: 1 }] })).rejects.toThrow(
      /not a LoRA adapter for this base model/,
    );
  });
});
