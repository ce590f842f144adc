/**
 * The native generation loop driven in this process, without serve-llm or HTTP: what a sampling
 * change costs per token, measured without the request path and with less noise from the machine.
 * Prompts are token ids, so no tokenizer is loaded.
 */
import { getLlama, type Llama } from "node-llama-cpp";
import {
  createNativeLoop,
  loadedLibllamaPath,
  type NativeGenerationLoop,
  type NativeSamplingParams,
} from "../../src/llm/llama-cpp/native/addon.js";

export type NativeLoopLoad = {
  /** Runs one job per prompt on slots 0…n−1, all at once or one after the other; generated tokens. */
  run(prompts: number[][], params: NativeSamplingParams, concurrent: boolean): Promise<number>;
  stats(): ReturnType<NativeGenerationLoop["stats"]>;
  close(): Promise<void>;
};

export async function openNativeLoopLoad(options: {
  modelPath: string;
  sequences: number;
  threads: number;
  contextSize: number;
}): Promise<NativeLoopLoad> {
  // node-llama-cpp loads (and initialises) llama.cpp; the loop resolves its functions from it.
  const llama: Llama = await getLlama({ gpu: false, build: "never", logLevel: "error" as never });
  const loop = await createNativeLoop({
    libraryPath: loadedLibllamaPath(),
    modelPath: options.modelPath,
    contextSize: options.contextSize,
    sequences: options.sequences,
    batchSize: 512,
    threads: options.threads,
    flashAttention: "auto",
  });
  const job = (slot: number, prompt: number[], params: NativeSamplingParams): Promise<number> =>
    new Promise((resolve, reject) => {
      let tokens = 0;
      loop.start(slot, Uint32Array.from(prompt), params, (token, _logprob, done, error) => {
        if (token !== undefined) tokens += 1;
        if (done === "error") reject(new Error(error));
        else if (done !== undefined) resolve(tokens);
      });
    });
  return {
    async run(prompts, params, concurrent) {
      if (concurrent) {
        const counts = await Promise.all(prompts.map((prompt, slot) => job(slot, prompt, params)));
        return counts.reduce((sum, count) => sum + count, 0);
      }
      let total = 0;
      for (const [slot, prompt] of prompts.entries()) total += await job(slot, prompt, params);
      return total;
    },
    stats: () => loop.stats(),
    async close() {
      loop.dispose();
      await llama.dispose();
    },
  };
}

/** `count` prompts of `length` word token ids (the generated vocabulary's words start at 400). */
export function tokenPrompts(count: number, length: number, seed: number, vocabularySize: number): number[][] {
  return Array.from({ length: count }, (_, index) => [
    1,
    ...Array.from(
      { length },
      (_, position) => 400 + ((seed * 7919 + index * 97 + position * 31) % (vocabularySize - 400)),
    ),
  ]);
}
