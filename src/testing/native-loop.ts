/**
 * Set-up of the native loop's tests: node-llama-cpp loads (and initialises) llama.cpp, and a loop
 * on the generated tiny chat model uses that same library.
 */
import { getLlama, type Llama } from "node-llama-cpp";
import { tinyModelPath } from "../gguf/index.js";
import {
  loadedLibllamaPath,
  type NativeGenerationLoop,
  type NativeLoopOptions,
  type NativeSamplingParams,
} from "../llm/llama-cpp/native/addon.js";

/** The runtime the loop's library comes from: load it before opening a loop, dispose it after. */
export function loadTestLlama(): Promise<Llama> {
  return getLlama({ gpu: false, build: "never", logLevel: "error" as never });
}

/** A loop's options on the tiny chat model: one thread and flash attention "auto" unless given. */
export async function tinyChatLoopOptions(
  options: Pick<NativeLoopOptions, "contextSize" | "sequences" | "batchSize"> & Partial<NativeLoopOptions>,
): Promise<NativeLoopOptions> {
  return {
    libraryPath: loadedLibllamaPath(),
    modelPath: await tinyModelPath("chat"),
    threads: 1,
    flashAttention: "auto",
    ...options,
  };
}

/** A job's tokens and how it ended ("length", "cancelled", "error"…, with the error's message). */
export type LoopOutcome = { tokens: number[]; done: string | undefined; error: string | undefined };

/** Starts a job on the loop and resolves when it ends (never rejects: the outcome says how). */
export function runLoopJob(
  loop: NativeGenerationLoop,
  slot: number,
  prompt: readonly number[],
  params: NativeSamplingParams,
): Promise<LoopOutcome> {
  return new Promise((resolve) => {
    const tokens: number[] = [];
    loop.start(slot, Uint32Array.from(prompt), params, (token, _logprob, done, error) => {
      if (token !== undefined) tokens.push(token);
      if (done !== undefined) resolve({ tokens, done, error });
    });
  });
}
