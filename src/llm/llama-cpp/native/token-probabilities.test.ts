/**
 * Token probabilities in the native loop, on the generated tiny model: top alternatives (sorted,
 * ≤ 0, the greedy token first), prompt logprobs (one per prompt token after the first, and a
 * distribution that sums to 1 over the whole vocabulary), and a job sharing a sibling's prompt KV
 * (n > 1) generating exactly what it generates alone.
 */
import type { Llama } from "node-llama-cpp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadTestLlama, tinyChatLoopOptions } from "../../../testing/native-loop.js";
import { createNativeLoop, type NativeGenerationLoop, type NativeSamplingParams, nativeAddonBuilt } from "./addon.js";

const VOCABULARY = 512;
const SEQUENCES = 4;

type Outcome = {
  tokens: number[];
  logprobs: number[];
  top: Float64Array[];
  promptLogprobs: number[] | undefined;
  cached: number | undefined;
  done: string | undefined;
};

function run(
  loop: NativeGenerationLoop,
  slot: number,
  prompt: readonly number[],
  params: Partial<NativeSamplingParams>,
): Promise<Outcome> {
  return new Promise((resolve) => {
    const outcome: Outcome = {
      tokens: [],
      logprobs: [],
      top: [],
      promptLogprobs: undefined,
      cached: undefined,
      done: undefined,
    };
    loop.start(
      slot,
      Uint32Array.from(prompt),
      { maxTokens: 1, ignoreEos: true, ...params },
      (token, logprob, done, error, cached, top, promptLogprobs) => {
        if (token !== undefined) outcome.tokens.push(token);
        if (logprob !== undefined) outcome.logprobs.push(logprob);
        if (top !== undefined) outcome.top.push(top);
        if (promptLogprobs !== undefined) outcome.promptLogprobs = Array.from(promptLogprobs);
        if (done !== undefined) {
          outcome.done = error === undefined ? done : `${done}: ${error}`;
          outcome.cached = cached;
          resolve(outcome);
        }
      },
    );
  });
}

const PROMPT = [1, 300, 301, 302, 303, 304, 305, 306, 307, 308, 309, 310];

describe.skipIf(!nativeAddonBuilt())("token probabilities in the native loop", () => {
  let llama: Llama;
  let loop: NativeGenerationLoop;
  beforeAll(async () => {
    llama = await loadTestLlama();
    loop = await createNativeLoop(
      await tinyChatLoopOptions({
        contextSize: 128,
        sequences: SEQUENCES,
        batchSize: 64,
      }),
    );
  });
  afterAll(async () => {
    loop?.dispose();
    await llama?.dispose();
  });

  it("reports the top alternatives sorted, ≤ 0, the greedy token first with its own logprob", async () => {
    const outcome = await run(loop, 0, PROMPT, { maxTokens: 6, topLogprobs: 5 });
    expect(outcome.tokens).toHaveLength(6);
    expect(outcome.top).toHaveLength(6);
    outcome.top.forEach((pairs, index) => {
      expect(pairs).toHaveLength(10);
      const logprobs = [1, 3, 5, 7, 9].map((at) => pairs[at] ?? 0);
      for (const value of logprobs) expect(value).toBeLessThanOrEqual(0);
      expect([...logprobs].sort((a, b) => b - a)).toEqual(logprobs);
      expect(pairs[0]).toBe(outcome.tokens[index]);
      expect(pairs[1]).toBeCloseTo(outcome.logprobs[index] ?? 1, 5);
    });
    expect(() => loop.start(0, Uint32Array.from(PROMPT), { maxTokens: 1, topLogprobs: 21 }, () => undefined)).toThrow(
      /topLogprobs/,
    );
  });

  it("reports one logprob per prompt token after the first, and a distribution summing to 1", async () => {
    const outcome = await run(loop, 1, PROMPT, { promptLogprobs: true });
    expect(outcome.promptLogprobs).toHaveLength(PROMPT.length - 1);
    for (const value of outcome.promptLogprobs ?? []) expect(value).toBeLessThanOrEqual(0);
    // Nothing of the prompt comes from the cache: every position's logits are computed.
    const again = await run(loop, 1, PROMPT, { promptLogprobs: true });
    expect(again.cached).toBe(0);
    expect(again.promptLogprobs?.map((value) => value.toFixed(4))).toEqual(
      outcome.promptLogprobs?.map((value) => value.toFixed(4)),
    );
    // P(x | BOS) over every x of the vocabulary, each as the second token of a prompt.
    let total = 0;
    for (let first = 0; first < VOCABULARY; first += SEQUENCES) {
      const runs = Array.from({ length: SEQUENCES }, (_, slot) =>
        run(loop, slot, [1, first + slot], { promptLogprobs: true }),
      );
      for (const result of await Promise.all(runs)) total += Math.exp(result.promptLogprobs?.[0] ?? Number.NaN);
    }
    expect(total).toBeCloseTo(1, 3);
  });

  it("a job sharing a sibling's prompt KV generates what it generates alone", async () => {
    const alone = await run(loop, 2, PROMPT, { maxTokens: 8, cachePrompt: false });
    // Started together: the sibling on slot 3 waits for slot 0's prompt and copies its KV.
    const [primary, sibling] = await Promise.all([
      run(loop, 0, PROMPT, { maxTokens: 8, cachePrompt: false }),
      run(loop, 3, PROMPT, { maxTokens: 8, cachePrompt: false, shareWith: 0 }),
    ]);
    expect(primary.tokens).toEqual(alone.tokens);
    expect(sibling.tokens).toEqual(alone.tokens);
    // All of it when it waited for the prompt, all but the last token when it came later.
    expect(sibling.cached).toBeGreaterThanOrEqual(PROMPT.length - 1);
    // Started after the sibling finished: its cached prompt is copied, minus the last token.
    const later = await run(loop, 2, PROMPT, { maxTokens: 8, shareWith: 3 });
    expect(later.tokens).toEqual(alone.tokens);
    expect(later.cached).toBe(PROMPT.length - 1);
    // Sampling with different seeds on shared KV still differs, with the same seed it agrees.
    const sampled = await Promise.all([
      run(loop, 0, PROMPT, { maxTokens: 8, temperature: 1, seed: 7 }),
      run(loop, 1, PROMPT, { maxTokens: 8, temperature: 1, seed: 7, shareWith: 0 }),
      run(loop, 2, PROMPT, { maxTokens: 8, temperature: 1, seed: 8, shareWith: 0 }),
    ]);
    expect(sampled[1]?.tokens).toEqual(sampled[0]?.tokens);
    expect(sampled[2]?.tokens).not.toEqual(sampled[0]?.tokens);
  });
});
