/**
 * The native loop's own contract, below the engine: what start() refuses synchronously, events of
 * a cancelled job, idempotent dispose, and finding the libllama node-llama-cpp loaded.
 */
import { getLlama, type Llama } from "node-llama-cpp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tinyModelPath } from "../../../gguf/index.js";
import { createNativeLoop, loadedLibllamaPath, type NativeGenerationLoop, nativeAddonBuilt } from "./addon.js";

describe("loadedLibllamaPath", () => {
  it("finds the mapped libllama, versioned or not, and refuses when none is mapped", () => {
    const maps = [
      "7f00-7f01 r--p 00000000 fe:00 1 /x/Release/libggml-base.so",
      "7f01-7f02 r-xp 00001000 fe:00 2 /x/Release/libllama.v0.4.0.so",
    ].join("\n");
    expect(loadedLibllamaPath(maps)).toBe("/x/Release/libllama.v0.4.0.so");
    expect(loadedLibllamaPath("7f-7f r--p 0 fe:00 3 /bins/libllama.so")).toBe("/bins/libllama.so");
    expect(() => loadedLibllamaPath("7f-7f r--p 0 fe:00 3 /bins/libllama-common.so")).toThrow(/not loaded/);
  });
});

type Outcome = { tokens: number[]; done: string | undefined; error: string | undefined };

function run(loop: NativeGenerationLoop, slot: number, prompt: number[], maxTokens: number): Promise<Outcome> {
  // ignore_eos: random weights may otherwise end early; these tests need the lengths.
  return new Promise((resolve) => {
    const tokens: number[] = [];
    loop.start(slot, Uint32Array.from(prompt), { maxTokens, ignoreEos: true }, (token, _logprob, done, error) => {
      if (token !== undefined) tokens.push(token);
      if (done !== undefined) resolve({ tokens, done, error });
    });
  });
}

describe.skipIf(!nativeAddonBuilt())("the native generation loop", () => {
  let llama: Llama;
  let loop: NativeGenerationLoop;
  beforeAll(async () => {
    // node-llama-cpp loads (and initialises) llama.cpp; the loop uses that same library.
    llama = await getLlama({ gpu: false, build: "never", logLevel: "error" as never });
    loop = await createNativeLoop({
      libraryPath: loadedLibllamaPath(),
      modelPath: await tinyModelPath("chat"),
      contextSize: 256,
      sequences: 2,
      batchSize: 16,
      threads: 1,
      flashAttention: "auto",
    });
  });
  afterAll(async () => {
    loop?.dispose();
    await llama?.dispose();
  });

  it("refuses bad starts synchronously", () => {
    const ignore = (): void => undefined;
    expect(() => loop.start(0, new Uint32Array(), { maxTokens: 1 }, ignore)).toThrow(/empty/);
    expect(() => loop.start(2, Uint32Array.from([1]), { maxTokens: 1 }, ignore)).toThrow(/range/);
    expect(() => loop.start(0, Uint32Array.from([100000]), { maxTokens: 1 }, ignore)).toThrow(/range/);
    expect(() => loop.start(0, new Uint32Array(300).fill(1), { maxTokens: 1 }, ignore)).toThrow(/context/);
    expect(() => loop.start(0, Uint32Array.from([1]), { maxTokens: 1, grammar: "root ::= (" }, ignore)).toThrow(
      /grammar/,
    );
  });

  it("generates max tokens, refuses a busy slot, and ends a cancelled job with cancelled", async () => {
    expect(await run(loop, 0, [1, 5, 6], 5)).toMatchObject({ done: "length", error: undefined });
    const long = run(loop, 1, [1, 5, 6], 200);
    expect(() => loop.start(1, Uint32Array.from([1]), { maxTokens: 1 }, () => undefined)).toThrow(/busy/);
    loop.cancel(1);
    const outcome = await long;
    expect(outcome.done).toBe("cancelled");
    expect(outcome.tokens.length).toBeLessThan(200);
    // The slot is free again.
    expect((await run(loop, 1, [1, 7], 3)).tokens).toHaveLength(3);
  });

  it("reports load progress up to 1; disposes once; later starts are refused", async () => {
    const progress: number[] = [];
    const other = await createNativeLoop(
      {
        libraryPath: loadedLibllamaPath(),
        modelPath: await tinyModelPath("chat"),
        contextSize: 128,
        sequences: 1,
        batchSize: 16,
        threads: 1,
        flashAttention: "off",
      },
      (fraction) => progress.push(fraction),
    );
    expect(progress.at(-1)).toBe(1);
    const running = run(other, 0, [1, 2, 3], 100);
    other.dispose();
    other.dispose();
    expect((await running).done).toBe("cancelled");
    expect(() => other.start(0, Uint32Array.from([1]), { maxTokens: 1 }, () => undefined)).toThrow(/disposed/);
  });

  it("raises a batch smaller than the sequences (llama.cpp needs one output per sequence)", async () => {
    const tight = await createNativeLoop({
      libraryPath: loadedLibllamaPath(),
      modelPath: await tinyModelPath("chat"),
      contextSize: 128,
      sequences: 3,
      batchSize: 1,
      threads: 1,
      flashAttention: "auto",
    });
    try {
      const order: number[] = [];
      const jobs = [0, 1, 2].map(
        (slot) =>
          new Promise<number>((resolve) => {
            let tokens = 0;
            tight.start(
              slot,
              Uint32Array.from([1, 5 + slot, 6]),
              { maxTokens: 6, ignoreEos: true },
              (token, _l, done) => {
                if (token !== undefined) {
                  tokens += 1;
                  order.push(slot);
                }
                if (done !== undefined) resolve(tokens);
              },
            );
          }),
      );
      expect(await Promise.all(jobs)).toEqual([6, 6, 6]);
      // Decoded together: the last slot got tokens before the first one finished.
      expect(order.indexOf(2)).toBeLessThan(order.lastIndexOf(0));
    } finally {
      tight.dispose();
    }
  });
});
