/**
 * The native loop's own contract, below the engine: what start() refuses synchronously, events of
 * a cancelled job, idempotent dispose, and finding the libllama node-llama-cpp loaded.
 */
import type { Llama } from "node-llama-cpp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LoopOutcome, loadTestLlama, runLoopJob, tinyChatLoopOptions } from "../../../testing/native-loop.js";
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

function run(loop: NativeGenerationLoop, slot: number, prompt: number[], maxTokens: number): Promise<LoopOutcome> {
  // ignore_eos: random weights may otherwise end early; these tests need the lengths.
  return runLoopJob(loop, slot, prompt, { maxTokens, ignoreEos: true });
}

describe.skipIf(!nativeAddonBuilt())("the native generation loop", () => {
  let llama: Llama;
  let loop: NativeGenerationLoop;
  beforeAll(async () => {
    // node-llama-cpp loads (and initialises) llama.cpp; the loop uses that same library.
    llama = await loadTestLlama();
    loop = await createNativeLoop(
      await tinyChatLoopOptions({
        // Not a multiple of llama.cpp's padding (256): the requested size must be the limit.
        contextSize: 200,
        sequences: 2,
        batchSize: 16,
      }),
    );
  });
  afterAll(async () => {
    loop?.dispose();
    await llama?.dispose();
  });

  it("refuses bad starts synchronously", () => {
    const ignore = (): void => undefined;
    expect(() => loop.start(0, new Uint32Array(), { maxTokens: 1 }, ignore)).toThrow(/empty/);
    expect(() => loop.start(2, Uint32Array.from([1]), { maxTokens: 1 }, ignore)).toThrow(/slot/);
    expect(() => loop.start(0, Uint32Array.from([100000]), { maxTokens: 1 }, ignore)).toThrow(/range/);
    expect(() => loop.start(0, new Uint32Array(300).fill(1), { maxTokens: 1 }, ignore)).toThrow(/context/);
    expect(() => loop.start(0, Uint32Array.from([1]), { maxTokens: 1, grammar: "root ::= (" }, ignore)).toThrow(
      /grammar/,
    );
  });

  it("checks kinds and ranges at the boundary instead of casting", () => {
    const ignore = (): void => undefined;
    const prompt = Uint32Array.from([1, 2]);
    const start = (tokens: unknown, params: Record<string, unknown>, slot: unknown = 0): number =>
      loop.start(slot as number, tokens as Uint32Array, { maxTokens: 1, ...params }, ignore);
    // A typed array of another kind used to be read as 32-bit tokens, out of bounds.
    expect(() => start(Float64Array.from([1, 2]), {})).toThrow(/Uint32Array/);
    expect(() => start(Uint8Array.from([1, 2]), {})).toThrow(/Uint32Array/);
    expect(() => start(prompt, { seed: 2 ** 32 })).toThrow(/seed must be an integer in \[0, 4294967295\]/);
    expect(() => start(prompt, { seed: -1 })).toThrow(/seed/);
    expect(() => start(prompt, { seed: 1.5 })).toThrow(/seed/);
    expect(() => start(prompt, { temperature: Number.NaN })).toThrow(/temperature/);
    expect(() => start(prompt, { topK: 2 ** 40 })).toThrow(/topK/);
    expect(() => start(prompt, { maxTokens: 0 })).toThrow(/maxTokens/);
    expect(() => start(prompt, { maxTokens: 2 ** 31 })).toThrow(/maxTokens/);
    expect(() => start(prompt, {}, 0.5)).toThrow(/slot/);
    expect(() => start(prompt, {}, 2 ** 32)).toThrow(/slot/);
    expect(() => start(prompt, { logitBias: Float32Array.from([1, 2]) })).toThrow(/Float64Array/);
    expect(() => start(prompt, { logitBias: Float64Array.from([1]) })).toThrow(/pairs/);
    expect(() => start(prompt, { logitBias: Float64Array.from([1.5, 2]) })).toThrow(/token out of range/);
    expect(() => start(prompt, { logitBias: Float64Array.from([1, Number.NaN]) })).toThrow(/finite/);
    expect(() => loop.cancel(-1)).toThrow(/slot/);
  });

  it("uses the requested context for both the prompt check and the generation stop", async () => {
    // contextSize 200 (llama.cpp pads the sequence to 256): prompt + generated tokens stop at 200.
    const prompt = Array.from({ length: 190 }, (_, index) => 3 + (index % 50));
    const outcome = await run(loop, 0, prompt, 100);
    expect(outcome).toMatchObject({ done: "length", error: undefined });
    expect(outcome.tokens).toHaveLength(10);
    expect((await run(loop, 0, new Array(199).fill(5), 100)).tokens).toHaveLength(1);
    expect(() => loop.start(0, new Uint32Array(200).fill(5), { maxTokens: 1 }, () => undefined)).toThrow(/context/);
  });

  it("reports a throwing callback as a process warning and still delivers the other jobs' events", async () => {
    const warnings: Error[] = [];
    const onWarning = (warning: Error): void => {
      warnings.push(warning);
    };
    process.on("warning", onWarning);
    try {
      const steady = run(loop, 1, [1, 4, 5], 6);
      await new Promise<void>((resolve) => {
        loop.start(0, Uint32Array.from([1, 2]), { maxTokens: 3, ignoreEos: true }, (_token, _logprob, done) => {
          if (done !== undefined) {
            resolve();
            return;
          }
          throw new Error("callback failure");
        });
      });
      expect((await steady).tokens).toHaveLength(6);
      await new Promise((resolve) => setImmediate(resolve));
      const ours = warnings.filter((warning) => (warning as { code?: string }).code === "LLM_TWIN_NATIVE_CALLBACK");
      expect(ours.length).toBeGreaterThan(0);
      expect(ours[0]?.message).toMatch(/callback failure/);
    } finally {
      process.off("warning", onWarning);
    }
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
      await tinyChatLoopOptions({ contextSize: 128, sequences: 1, batchSize: 16, flashAttention: "off" }),
      { onProgress: (fraction) => progress.push(fraction) },
    );
    expect(progress.at(-1)).toBe(1);
    const running = run(other, 0, [1, 2, 3], 100);
    other.dispose();
    other.dispose();
    expect((await running).done).toBe("cancelled");
    expect(() => other.start(0, Uint32Array.from([1]), { maxTokens: 1 }, () => undefined)).toThrow(/disposed/);
  });

  it("cancels loading when disposed during the load and never reports success", async () => {
    for (let round = 0; round < 5; round += 1) {
      const controller = new AbortController();
      const loading = createNativeLoop(await tinyChatLoopOptions({ contextSize: 128, sequences: 1, batchSize: 16 }), {
        signal: controller.signal,
      });
      controller.abort();
      await expect(loading).rejects.toMatchObject({ code: "aborted" });
    }
  });

  it("reports a model llama.cpp cannot load as model_not_found (not as a LoRA configuration error)", async () => {
    const options = await tinyChatLoopOptions({ contextSize: 128, sequences: 1, batchSize: 16 });
    await expect(createNativeLoop({ ...options, modelPath: `${options.modelPath}.missing` })).rejects.toMatchObject({
      code: "model_not_found",
      message: expect.stringMatching(/could not load the model/),
    });
  });

  it("bounds the deliveries waiting for JavaScript without losing events or deadlocking dispose", async () => {
    const bounded = await createNativeLoop(
      await tinyChatLoopOptions({
        contextSize: 256,
        sequences: 2,
        batchSize: 16,
        maxPendingDeliveries: 1,
      }),
    );
    try {
      const outcomes = await Promise.all([run(bounded, 0, [1, 2, 3], 40), run(bounded, 1, [1, 4], 40)]);
      expect(outcomes.map((outcome) => outcome.tokens.length)).toEqual([40, 40]);
      // The loop waits for this thread (busy below) with one delivery pending; dispose must not
      // deadlock with it, and the job still ends with "cancelled".
      const long = run(bounded, 0, [1, 2, 3], 200);
      const until = Date.now() + 30;
      while (Date.now() < until) {
        // keep the JavaScript thread busy so that deliveries pile up
      }
      bounded.dispose();
      expect((await long).done).toBe("cancelled");
    } finally {
      bounded.dispose();
    }
  });

  it("raises a batch smaller than the sequences (llama.cpp needs one output per sequence)", async () => {
    const tight = await createNativeLoop(
      await tinyChatLoopOptions({
        contextSize: 128,
        sequences: 3,
        batchSize: 1,
      }),
    );
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
