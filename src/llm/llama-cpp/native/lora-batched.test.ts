/**
 * Batched LoRA (loraMode "batched", native/src/batched-lora.h): each token's adapter applied inside
 * one llama.cpp decode of one context, on generated adapters for the tiny chat model. Checked
 * against llama.cpp's own adapter path (loraMode "contexts", the adapter set on the context): the
 * same greedy tokens and logprobs for a, b and the base decoded at once. Exact token equality holds
 * because the tiny model and the adapters are F32: llama.cpp multiplies F32 adapter tensors by the
 * F32 activations as this mode does (with F16 adapter tensors it would round the activations to
 * F16 first, which this mode does not; the F16 test checks behaviour, not equality with it).
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Llama } from "node-llama-cpp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadTestLlama, tinyChatLoopOptions } from "../../../testing/native-loop.js";
import { writeTinyLora } from "../../../testing/tiny-lora.js";
import {
  createNativeLoop,
  type NativeGenerationLoop,
  type NativeLoopOptions,
  type NativeSamplingParams,
  nativeAddonBuilt,
} from "./addon.js";

type JobResult = { tokens: number[]; logprobs: number[]; cached: number | undefined; promptLogprobs: number[] };

function runJob(
  loop: NativeGenerationLoop,
  slot: number,
  prompt: number[],
  params: Partial<NativeSamplingParams>,
): Promise<JobResult> {
  return new Promise((resolve, reject) => {
    const result: JobResult = { tokens: [], logprobs: [], cached: undefined, promptLogprobs: [] };
    loop.start(
      slot,
      Uint32Array.from(prompt),
      { maxTokens: 24, ignoreEos: true, ...params },
      (token, logprob, done, error, cached, _top, prompted) => {
        if (token !== undefined) result.tokens.push(token);
        if (logprob !== undefined) result.logprobs.push(logprob);
        if (prompted !== undefined) result.promptLogprobs = Array.from(prompted);
        if (done === "error") reject(new Error(error));
        else if (done !== undefined) resolve({ ...result, cached });
      },
    );
  });
}

const adapterParams = (adapter: number | undefined): Partial<NativeSamplingParams> =>
  adapter === undefined ? {} : { adapter };

describe.skipIf(!nativeAddonBuilt())("LoRA adapters applied per token in one decode (batched)", () => {
  let llama: Llama;
  let directory: string;
  let loras: Array<{ path: string; scale: number }>;
  const loops: NativeGenerationLoop[] = [];
  const open = async (options: Partial<NativeLoopOptions>): Promise<NativeGenerationLoop> => {
    const loop = await createNativeLoop(
      await tinyChatLoopOptions({ contextSize: 256, sequences: 3, batchSize: 64, loras, ...options }),
    );
    loops.push(loop);
    return loop;
  };
  let batched: NativeGenerationLoop;
  let batchedTwoThreads: NativeGenerationLoop;
  let contexts: NativeGenerationLoop;
  beforeAll(async () => {
    llama = await loadTestLlama();
    directory = await mkdtemp(path.join(tmpdir(), "llm-twin-lora-batched-"));
    loras = [];
    for (const seed of [7, 9]) {
      loras.push({ path: await writeTinyLora(directory, `style-${seed}.gguf`, { rank: 4, seed }), scale: 1 });
    }
    // The second adapter's file again at scale 0, and the first at half scale.
    loras.push({ path: loras[0]?.path ?? "", scale: 0 }, { path: loras[0]?.path ?? "", scale: 0.5 });
    batched = await open({ loraMode: "batched" });
    // Two threads: the loop's own ggml threadpool runs every graph compute between the updates.
    batchedTwoThreads = await open({ loraMode: "batched", threads: 2 });
    contexts = await open({ loraMode: "contexts", contexts: 1 });
  });
  afterAll(async () => {
    for (const loop of loops) loop.dispose();
    await llama?.dispose();
    if (directory !== undefined) await rm(directory, { recursive: true, force: true });
  });

  it.each([
    [1, () => batched],
    [2, () => batchedTwoThreads],
  ])(
    "gives adapter a, adapter b and the base, decoded at once, llama.cpp's own adapter output (%i thread(s))",
    async (_threads, loopOf) => {
      const loop = loopOf();
      const prompts = [
        [1, 40, 41, 42],
        [1, 50, 51],
        [1, 60, 61, 62, 63],
      ];
      const adapters = [0, 1, undefined];
      const reference: JobResult[] = [];
      for (let index = 0; index < 3; index += 1) {
        reference.push(
          await runJob(contexts, index, prompts[index] ?? [], {
            ...adapterParams(adapters[index]),
            cachePrompt: false,
          }),
        );
      }
      expect(reference[0]?.tokens).not.toEqual(reference[1]?.tokens);
      for (let round = 0; round < 3; round += 1) {
        // Slots rotate between rounds: a slot's cached prefix computed with another adapter is not reused.
        const together = await Promise.all(
          [0, 1, 2].map((index) =>
            runJob(loop, (index + round) % 3, prompts[index] ?? [], {
              ...adapterParams(adapters[index]),
              logprobs: true,
            }),
          ),
        );
        together.forEach((result, index) => {
          expect(result.tokens).toEqual(reference[index]?.tokens);
        });
      }
    },
  );

  it("changes greedy output with an adapter; scale 0 equals the base, half scale is its own", async () => {
    const prompt = [1, 20, 21, 22];
    const [base, adapted, muted, half] = await Promise.all([
      runJob(batched, 0, prompt, {}),
      runJob(batched, 1, prompt, { adapter: 0 }),
      runJob(batched, 2, prompt, { adapter: 2 }),
    ]).then(async (three) => [...three, await runJob(batched, 0, prompt, { adapter: 3 })]);
    expect(adapted?.tokens).not.toEqual(base?.tokens);
    expect(muted?.tokens).toEqual(base?.tokens);
    expect(half?.tokens).toEqual((await runJob(contexts, 0, prompt, { adapter: 3, cachePrompt: false })).tokens);
    expect(half?.tokens).not.toEqual(adapted?.tokens);
  });

  it("reuses a cached prompt only with the adapter it was computed with", async () => {
    const prompt = [1, 140, 141, 142, 143, 144];
    const adapted = await runJob(batched, 0, prompt, { adapter: 0, cachePrompt: false });
    const base = await runJob(batched, 1, prompt, { cachePrompt: false });
    // Slot 0 holds the prompt's KV computed with adapter a: the base on slot 0 decodes it again.
    const baseOnSlot0 = await runJob(batched, 0, prompt, {});
    expect(baseOnSlot0.cached).toBe(0);
    expect(baseOnSlot0.tokens).toEqual(base.tokens);
    const again = await runJob(batched, 0, prompt, {});
    expect(again.cached).toBe(prompt.length - 1);
    expect(again.tokens).toEqual(base.tokens);
    const adaptedAfterBase = await runJob(batched, 0, prompt, { adapter: 0 });
    expect(adaptedAfterBase.cached).toBe(0);
    expect(adaptedAfterBase.tokens).toEqual(adapted.tokens);
  });

  it("gives both choices of n = 2 on an adapter the solo output while adapter b decodes", async () => {
    const promptA = [1, 100, 101, 102, 103];
    const promptB = [1, 110, 111];
    const soloA = await runJob(contexts, 1, promptA, { maxTokens: 16, adapter: 0, cachePrompt: false });
    const soloB = await runJob(contexts, 0, promptB, { maxTokens: 40, adapter: 1, cachePrompt: false });
    const [streamB, primary, sibling] = await Promise.all([
      runJob(batched, 0, promptB, { maxTokens: 40, adapter: 1, cachePrompt: false }),
      runJob(batched, 1, promptA, { maxTokens: 16, adapter: 0, cachePrompt: false }),
      runJob(batched, 2, promptA, { maxTokens: 16, adapter: 0, cachePrompt: false, shareWith: 1 }),
    ]);
    expect(streamB.tokens).toEqual(soloB.tokens);
    expect(primary.tokens).toEqual(soloA.tokens);
    expect(sibling.tokens).toEqual(soloA.tokens);
    // The sibling copied the primary's prompt KV (computed with the same adapter).
    expect(sibling.cached).toBeGreaterThanOrEqual(promptA.length - 1);
  });

  it("reports the logprobs and prompt logprobs of llama.cpp's own adapter path", async () => {
    const prompt = [1, 120, 121, 122, 123, 124];
    const reference = await runJob(contexts, 1, prompt, {
      maxTokens: 6,
      adapter: 1,
      logprobs: true,
      promptLogprobs: true,
    });
    const [, together] = await Promise.all([
      runJob(batched, 0, [1, 130, 131], { maxTokens: 30, adapter: 0 }),
      runJob(batched, 1, prompt, { maxTokens: 6, adapter: 1, logprobs: true, promptLogprobs: true }),
    ]);
    expect(together.tokens).toEqual(reference.tokens);
    expect(together.promptLogprobs).toHaveLength(prompt.length - 1);
    together.promptLogprobs.forEach((value, index) => {
      expect(value).toBeCloseTo(reference.promptLogprobs[index] ?? Number.NaN, 4);
    });
    together.logprobs.forEach((value, index) => {
      expect(value).toBeCloseTo(reference.logprobs[index] ?? Number.NaN, 4);
    });
  });

  it("constrains an adapter's output with a grammar while the base decodes", async () => {
    const grammar = 'root ::= "ab" [a-z]*';
    const prompt = [1, 150, 151];
    const reference = await runJob(contexts, 0, prompt, { maxTokens: 8, adapter: 0, grammar, cachePrompt: false });
    const [constrained] = await Promise.all([
      runJob(batched, 0, prompt, { maxTokens: 8, adapter: 0, grammar, cachePrompt: false }),
      runJob(batched, 1, [1, 160, 161], { maxTokens: 20 }),
    ]);
    expect(constrained.tokens).toEqual(reference.tokens);
  });

  // The last layer's feed-forward and the output projection run on the rows of the tokens with
  // logits only (llama.cpp's inp_out_ids): row j is then the j-th such token of the batch. The three
  // prompts decode in one step (15 tokens, 7 with logits: one per prompt, every one of the prompt
  // logprobs job's), then the generating rows.
  it("maps the rows of the last layer and the output (tokens with logits only) to their adapters", async () => {
    const file = await writeTinyLora(directory, "style-ffn-output.gguf", {
      rank: 4,
      seed: 13,
      targets: ["attn_v", "ffn_down", "output"],
      magnitude: 0.3,
    });
    const both = [{ path: file, scale: 1 }, ...loras.slice(0, 1)];
    const loop = await open({ loraMode: "batched", loras: both });
    const reference = await open({ loraMode: "contexts", contexts: 1, loras: both });
    const jobs: Array<[number[], Partial<NativeSamplingParams>]> = [
      [[1, 180, 181, 182, 183, 184, 185], { adapter: 0, maxTokens: 12 }],
      [[1, 190, 191], { maxTokens: 12 }],
      [[1, 200, 201, 202, 203], { adapter: 1, maxTokens: 12, promptLogprobs: true }],
    ];
    const alone: JobResult[] = [];
    for (const [index, [prompt, params]] of jobs.entries()) {
      alone.push(await runJob(reference, index, prompt, { ...params, cachePrompt: false }));
    }
    expect(alone[0]?.tokens).not.toEqual((await runJob(reference, 0, jobs[0]?.[0] ?? [], { maxTokens: 12 })).tokens);
    // The second job starts once the first generates: its prompt decodes beside a generating row.
    const first = runJob(loop, 0, jobs[0]?.[0] ?? [], { ...jobs[0]?.[1], cachePrompt: false });
    const together = await Promise.all([
      first,
      ...jobs
        .slice(1)
        .map(([prompt, params], index) => runJob(loop, index + 1, prompt, { ...params, cachePrompt: false })),
    ]);
    expect(together.map((result) => result.tokens)).toEqual(alone.map((result) => result.tokens));
    together[2]?.promptLogprobs.forEach((value, index) => {
      expect(value).toBeCloseTo(alone[2]?.promptLogprobs[index] ?? Number.NaN, 4);
    });
  });

  it("applies F16 adapter tensors (read as F32): the output changes, alone or beside the base", async () => {
    const file = await writeTinyLora(directory, "style-f16.gguf", { rank: 4, seed: 7, tensorType: "f16" });
    const loop = await open({ loraMode: "batched", loras: [{ path: file, scale: 1 }] });
    const prompt = [1, 170, 171, 172];
    const base = await runJob(loop, 0, prompt, { cachePrompt: false });
    const alone = await runJob(loop, 1, prompt, { adapter: 0, cachePrompt: false });
    expect(alone.tokens).not.toEqual(base.tokens);
    const together = await Promise.all([
      runJob(loop, 0, prompt, { cachePrompt: false }),
      runJob(loop, 1, prompt, { adapter: 0, cachePrompt: false }),
    ]);
    expect(together.map((result) => result.tokens)).toEqual([base.tokens, alone.tokens]);
  });

  it("loads an adapter carrying norm weights, which llama.cpp skips, and applies it as llama.cpp does", async () => {
    const file = await writeTinyLora(directory, "style-norms.gguf", { rank: 4, seed: 7, normWeights: true });
    const withNorms = [{ path: file, scale: 1 }];
    const loop = await open({ loraMode: "batched", loras: withNorms });
    const reference = await open({ loraMode: "contexts", contexts: 1, loras: withNorms });
    const prompt = [1, 210, 211, 212];
    const expected = await runJob(reference, 0, prompt, { adapter: 0, cachePrompt: false });
    const [adapted, base] = await Promise.all([
      runJob(loop, 0, prompt, { adapter: 0, cachePrompt: false }),
      runJob(loop, 1, prompt, { cachePrompt: false }),
    ]);
    expect(adapted.tokens).toEqual(expected.tokens);
    expect(adapted.tokens).not.toEqual(base.tokens);
  });

  it("refuses, at load, an adapter it cannot apply per token (an activated LoRA)", async () => {
    const file = await writeTinyLora(directory, "activated.gguf", { rank: 4, seed: 7, aloraInvocationTokens: [5, 6] });
    await expect(open({ loraMode: "batched", loras: [{ path: file, scale: 1 }] })).rejects.toMatchObject({
      code: "configuration_error",
      message: expect.stringMatching(/cannot be applied per token.*activated LoRA/),
    });
  });
});
