/**
 * Loading the native generation loop (native/, built by `npm run build:native`) and finding the
 * libllama it must use: the one node-llama-cpp has already loaded into this process.
 */
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { AppError } from "../../../errors/index.js";
import { readMaps } from "../runtime.js";

/** What one decode step reports for a job: a token, its log-probability, and/or the end. */
export type NativeEventHandler = (
  token: number | undefined,
  logprob: number | undefined,
  done: "eos" | "length" | "cancelled" | "error" | undefined,
  error: string | undefined,
) => void;

export type NativeSamplingParams = {
  temperature?: number;
  topK?: number;
  topP?: number;
  seed?: number;
  repeatPenalty?: number;
  /** (token, bias) pairs; −Infinity bans. */
  logitBias?: Float64Array;
  ignoreEos?: boolean;
  logprobs?: boolean;
  maxTokens: number;
  grammar?: string;
  grammarRoot?: string;
};

export type NativeGenerationLoop = {
  start(slot: number, promptTokens: Uint32Array, params: NativeSamplingParams, onEvent: NativeEventHandler): number;
  cancel(slot: number): void;
  dispose(): void;
  stats(): { decodes: number; tokens: number };
};

export type NativeLoopOptions = {
  libraryPath: string;
  modelPath: string;
  /** Tokens of context per sequence. */
  contextSize: number;
  sequences: number;
  batchSize: number;
  /** Threads for one-token decodes (one sequence generating). */
  threads: number;
  /** Threads for prompts and decodes of several sequences; default: threads. */
  threadsBatch?: number;
  flashAttention: "auto" | "on" | "off";
};

type Addon = {
  GenerationLoop: new (
    options: NativeLoopOptions,
    onReady: (error?: string) => void,
    onProgress?: (fraction: number) => void,
  ) => NativeGenerationLoop;
};

const ADDON_FILE = "llm_twin_native.node";

/** native/build/Release/llm_twin_native.node of this checkout (from src/ or dist/). */
export function nativeAddonPath(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  return path.resolve(here, "../../../../native/build/Release", ADDON_FILE);
}

export function nativeAddonBuilt(): boolean {
  return existsSync(nativeAddonPath());
}

let addon: Addon | undefined;

function loadAddon(): Addon {
  if (addon === undefined) {
    const file = nativeAddonPath();
    if (!existsSync(file)) {
      throw new AppError("configuration_error", `The native engine is not built (${file}): run npm run build:native`);
    }
    addon = createRequire(import.meta.url)(file) as Addon;
  }
  return addon;
}

/** The libllama shared object mapped into this process (after node-llama-cpp's getLlama()). */
export function loadedLibllamaPath(maps: string = readMaps()): string {
  for (const line of maps.split("\n")) {
    const file = line.slice(line.indexOf("/"));
    if (line.includes("/") && /\/libllama(\.v[\d.]+)?\.so$/.test(file)) return file;
  }
  throw new AppError("configuration_error", "libllama is not loaded: node-llama-cpp must load llama.cpp first");
}

/** Loads the model on the loop's own thread; resolves when it is ready to start jobs. */
export function createNativeLoop(
  options: NativeLoopOptions,
  onProgress?: (fraction: number) => void,
): Promise<NativeGenerationLoop> {
  const { GenerationLoop } = loadAddon();
  return new Promise((resolve, reject) => {
    let loop: NativeGenerationLoop | undefined;
    let outcome: { error: string | undefined } | undefined;
    const settle = (): void => {
      if (loop === undefined || outcome === undefined) return;
      if (outcome.error === undefined) resolve(loop);
      else {
        loop.dispose();
        reject(new AppError("model_not_found", `Could not load the model ${options.modelPath}: ${outcome.error}`));
      }
    };
    // The ready callback always arrives on a later event-loop turn, after the constructor returned.
    loop = new GenerationLoop(
      options,
      (error) => {
        outcome = { error };
        settle();
      },
      onProgress,
    );
    settle();
  });
}
