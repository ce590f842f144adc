/**
 * LoRA adapters in the native loop, on generated adapters (src/gguf/generate-lora.ts) for
 * the tiny chat model: an adapter changes greedy output, scale 0 equals the base, jobs of different
 * adapters decoded concurrently each get their own output (one context rotating among adapters, or
 * one context per adapter set decoding at once), none is starved by a steady stream on another, and
 * an adapter for another base model is refused when the loop loads; n > 1 siblings copy prompt KV within
 * their context and prompt logprobs come from the job's own context.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Llama } from "node-llama-cpp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateLora, TINY_MODEL_PRESETS } from "../../../gguf/index.js";
import { loadTestLlama, tinyChatLoopOptions } from "../../../testing/native-loop.js";
import { createNativeLoop, type NativeGenerationLoop, type NativeSamplingParams, nativeAddonBuilt } from "./addon.js";

function greedy(
  loop: NativeGenerationLoop,
  slot: number,
  prompt: number[],
  adapter?: number,
  maxTokens = 12,
  onToken?: (count: number) => void,
): Promise<number[]> {
  return new Promise((resolve, reject) => {
    const tokens: number[] = [];
    const params = { maxTokens, ignoreEos: true, ...(adapter === undefined ? {} : { adapter }) };
    loop.start(slot, Uint32Array.from(prompt), params, (token, _logprob, done, error) => {
      if (token !== undefined) {
        tokens.push(token);
        onToken?.(tokens.length);
      }
      if (done === "error") reject(new Error(error));
      else if (done !== undefined) resolve(tokens);
    });
  });
}

type JobResult = { tokens: number[]; cached: number | undefined; promptLogprobs: number[] };

function runJob(
  loop: NativeGenerationLoop,
  slot: number,
  prompt: number[],
  params: NativeSamplingParams,
): Promise<JobResult> {
  return new Promise((resolve, reject) => {
    const tokens: number[] = [];
    let promptLogprobs: number[] = [];
    loop.start(slot, Uint32Array.from(prompt), { ignoreEos: true, ...params }, (token, ...rest) => {
      const [, done, error, cached, , prompted] = rest;
      if (token !== undefined) tokens.push(token);
      if (prompted !== undefined) promptLogprobs = Array.from(prompted);
      if (done === "error") reject(new Error(error));
      else if (done !== undefined) resolve({ tokens, cached, promptLogprobs });
    });
  });
}

describe.skipIf(!nativeAddonBuilt())("LoRA adapters in the native loop", () => {
  let llama: Llama;
  let directory: string;
  let loop: NativeGenerationLoop;
  let adapterPath: string;
  const options = () => tinyChatLoopOptions({ contextSize: 128, sequences: 2, batchSize: 32 });
  beforeAll(async () => {
    llama = await loadTestLlama();
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
    await expect(createNativeLoop({ ...(await options()), loras: [{ path: other, scale: 1 }] })).rejects.toMatchObject({
      code: "configuration_error",
      message: expect.stringMatching(/not a LoRA adapter for this base model/),
    });
  });
});

describe.skipIf(!nativeAddonBuilt())("LoRA adapters decoded at once in several contexts", () => {
  let llama: Llama;
  let directory: string;
  const loops: NativeGenerationLoop[] = [];
  let loras: Array<{ path: string; scale: number }>;
  const open = async (contexts: number, threads = 1): Promise<NativeGenerationLoop> => {
    const loop = await createNativeLoop(
      await tinyChatLoopOptions({
        contextSize: 256,
        sequences: 3,
        batchSize: 64,
        // With 1 thread the contexts decode in turns within a step; with 2, two decode at once.
        threads,
        loras,
        contexts,
        // The loop waits for each delivery: it runs at most one step ahead of what the test counts.
        maxPendingDeliveries: 1,
      }),
    );
    loops.push(loop);
    return loop;
  };
  beforeAll(async () => {
    llama = await loadTestLlama();
    directory = await mkdtemp(path.join(tmpdir(), "llm-twin-lora-contexts-"));
    loras = [];
    for (const seed of [7, 9]) {
      const file = path.join(directory, `style-${seed}.gguf`);
      await generateLora(file, { base: TINY_MODEL_PRESETS.chat, rank: 4, alpha: 4, seed });
      loras.push({ path: file, scale: 1 });
    }
  });
  afterAll(async () => {
    for (const loop of loops) loop.dispose();
    await llama?.dispose();
    if (directory !== undefined) await rm(directory, { recursive: true, force: true });
  });

  // Adapter a, adapter b and the base at once: each output equals the same request served alone.
  it.each([
    [1, 1],
    [2, 1],
    [3, 1],
    // Two contexts decode at once (one thread each), the third in turn: every job ends on the
    // same step, so no step runs one context on both threads.
    [3, 2],
  ])("gives each of 2 adapters + the base its solo output, %i context(s), %i thread(s)", async (contexts, threads) => {
    const loop = await open(contexts, threads);
    const prompts = [
      [1, 40, 41, 42],
      [1, 50, 51],
      [1, 60, 61, 62, 63],
    ];
    const adapters = [0, 1, undefined];
    // Served alone: on this loop with one thread; with two, on a one-thread loop (a lone sequence
    // would decode with both threads, whose spinning barriers crawl on a loaded 2-core machine;
    // llama.cpp's output does not depend on the thread count).
    const reference = threads === 1 ? loop : await open(1, 1);
    const solo: number[][] = [];
    for (let index = 0; index < 3; index += 1) {
      solo.push(await greedy(reference, index, prompts[index] ?? [], adapters[index], 24));
    }
    expect(solo[0]).not.toEqual(solo[1]);
    for (let round = 0; round < 2; round += 1) {
      // Slots rotate between rounds, so a slot's cached prefix of another adapter is not reused.
      const together = await Promise.all(
        [0, 1, 2].map((index) => greedy(loop, (index + round) % 3, prompts[index] ?? [], adapters[index], 24)),
      );
      expect(together).toEqual(solo);
    }
  });

  // n = 2 on adapter a while adapter b decodes: the sibling copies the primary's prompt KV, which
  // only works in the primary's context, so it is placed there even when its own slot's context is
  // idle (the later sibling below, whose slot last decoded b in the other context).
  it("gives both choices of n = 2 on an adapter the solo output while another adapter decodes", async () => {
    const loop = await open(2);
    const promptA = [1, 100, 101, 102, 103];
    const promptB = [1, 110, 111];
    const run = (slot: number, prompt: number[], params: NativeSamplingParams) => runJob(loop, slot, prompt, params);
    const soloA = (await run(1, promptA, { maxTokens: 16, adapter: 0, cachePrompt: false })).tokens;
    const soloB = (await run(0, promptB, { maxTokens: 40, adapter: 1, cachePrompt: false })).tokens;
    expect(soloA).not.toEqual(soloB.slice(0, 16));
    // Started together: b on slot 0, then a's primary on slot 1 and its sibling on slot 2.
    const [streamB, primary, sibling] = await Promise.all([
      run(0, promptB, { maxTokens: 40, adapter: 1, cachePrompt: false }),
      run(1, promptA, { maxTokens: 16, adapter: 0, cachePrompt: false }),
      run(2, promptA, { maxTokens: 16, adapter: 0, cachePrompt: false, shareWith: 1 }),
    ]);
    expect(streamB.tokens).toEqual(soloB);
    expect(primary.tokens).toEqual(soloA);
    expect(sibling.tokens).toEqual(soloA);
    expect(sibling.cached).toBeGreaterThanOrEqual(promptA.length - 1);
    // Later: b on slot 2, and a sibling of slot 1's finished job on slot 0, whose own sequence
    // (b's) is in the other context: it still copies slot 1's cached prompt.
    const [againB, later] = await Promise.all([
      run(2, promptB, { maxTokens: 40, adapter: 1, cachePrompt: false }),
      run(0, promptA, { maxTokens: 16, adapter: 0, shareWith: 1 }),
    ]);
    expect(againB.tokens).toEqual(soloB);
    expect(later.tokens).toEqual(soloA);
    expect(later.cached).toBe(promptA.length - 1);
  });

  // Prompt logprobs read the logits of the context the job decodes in (the second one here, the
  // first decoding adapter b).
  it("reports prompt logprobs on an adapter in a second context as when served alone", async () => {
    const loop = await open(2);
    const promptA = [1, 120, 121, 122, 123, 124];
    const solo = await runJob(loop, 1, promptA, { maxTokens: 4, adapter: 0, promptLogprobs: true });
    expect(solo.promptLogprobs).toHaveLength(promptA.length - 1);
    const [, together] = await Promise.all([
      runJob(loop, 0, [1, 130, 131], { maxTokens: 30, adapter: 1 }),
      runJob(loop, 1, promptA, { maxTokens: 4, adapter: 0, promptLogprobs: true }),
    ]);
    expect(together.tokens).toEqual(solo.tokens);
    expect(together.promptLogprobs).toHaveLength(promptA.length - 1);
    together.promptLogprobs.forEach((value, index) => {
      expect(value).toBeCloseTo(solo.promptLogprobs[index] ?? Number.NaN, 4);
    });
  });

  // A steady stream on adapter a (two long jobs) does not stall a short request on adapter b: it
  // ends while the stream has produced a bounded number of tokens (one context: b waits at most one
  // turn of 16 steps, then keeps the context for its 4 tokens; two: b decodes alongside).
  it.each([
    [1, 24],
    [2, 8],
  ])("does not starve an adapter behind a steady stream on another, %i context(s)", async (contexts, bound) => {
    const loop = await open(contexts);
    let streamed = 0;
    let startedB: Promise<number[]> | undefined;
    let streamedAtB = Number.POSITIVE_INFINITY;
    const onToken = (): void => {
      streamed += 1;
      if (streamed === 4) {
        startedB = greedy(loop, 2, [1, 70, 71], 1, 4).then((tokens) => {
          streamedAtB = streamed;
          return tokens;
        });
      }
    };
    await Promise.all([greedy(loop, 0, [1, 80, 81], 0, 100, onToken), greedy(loop, 1, [1, 90, 91], 0, 100, onToken)]);
    expect(await startedB).toHaveLength(4);
    // Tokens of the stream (two per step) from b's start to b's end.
    expect(streamedAtB - 4).toBeLessThanOrEqual(2 * bound);
  });
});
