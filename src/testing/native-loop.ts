/**
 * Set-up of the native loop's tests: node-llama-cpp loads (and initialises) llama.cpp, and a loop
 * on the generated tiny chat model uses that same library.
 */
import { getLlama, type Llama } from "node-llama-cpp";
import { tinyModelPath } from "../gguf/index.js";
import { loadedLibllamaPath, type NativeLoopOptions } from "../llm/llama-cpp/native/addon.js";

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
