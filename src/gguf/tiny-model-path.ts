/**
 * Named presets of generated models, generated once into the cache and shared by every test
 * process: `${LLM_TWIN_CACHE_DIR or ~/.cache/llm-twin}/test-models/<preset>-<options hash>.gguf`.
 */

import { createHash } from "node:crypto";
import { mkdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { defaultCacheDirectory } from "../config/paths.js";
import { type GenerateGgufOptions, generateGguf } from "./generate-gguf.js";

export type TinyModelPreset = "chat" | "reranker" | "bench-66m";

/** Bump when the generator's output changes, so cached files are regenerated. */
const GENERATOR_VERSION = 2;

export const TINY_MODEL_PRESETS: Readonly<Record<TinyModelPreset, GenerateGgufOptions>> = {
  /** llama, 0.6 MB: generation, chat template, embeddings, grammars (~1,300 tok/s on 2 cores). */
  chat: {
    architecture: "llama",
    vocabularySize: 512,
    embeddingLength: 64,
    layers: 2,
    heads: 4,
    headsKv: 4,
    feedForwardLength: 128,
    contextLength: 4096,
    fileType: "f32",
    seed: 1,
    name: "llm-twin-test-chat",
  },
  /** qwen3 with a yes/no classifier head: node-llama-cpp's ranking context works on it. */
  reranker: {
    architecture: "qwen3",
    vocabularySize: 512,
    embeddingLength: 64,
    layers: 2,
    heads: 4,
    headsKv: 2,
    feedForwardLength: 128,
    contextLength: 4096,
    fileType: "f32",
    seed: 2,
    reranker: { labels: ["yes", "no"] },
    name: "llm-twin-test-reranker",
  },
  /** ~66M parameters, F16 (~133 MB): the serving benchmarks' model (GUIDE §1). */
  "bench-66m": {
    architecture: "llama",
    vocabularySize: 32000,
    embeddingLength: 512,
    layers: 8,
    heads: 8,
    headsKv: 8,
    feedForwardLength: 2048,
    contextLength: 2048,
    fileType: "f16",
    seed: 3,
    name: "llm-twin-bench-66m",
  },
};

export const llmTwinCacheDirectory = defaultCacheDirectory;

export function optionsHash(options: GenerateGgufOptions): string {
  return createHash("sha256")
    .update(JSON.stringify({ generator: GENERATOR_VERSION, options }))
    .digest("hex")
    .slice(0, 12);
}

const pending = new Map<string, Promise<string>>();

async function exists(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

/**
 * Path of the generated model for `preset`, generating it on first use. Safe when several
 * processes call it at once: each writes its own temporary file and renames it into place
 * atomically, so a file at the final path is always complete.
 */
export function tinyModelPath(preset: TinyModelPreset): Promise<string> {
  const options = TINY_MODEL_PRESETS[preset];
  if (options === undefined) throw new Error(`Unknown tiny model preset: ${String(preset)}`);
  const directory = join(llmTwinCacheDirectory(), "test-models");
  const path = join(directory, `${preset}-${optionsHash(options)}.gguf`);
  const existing = pending.get(path);
  if (existing !== undefined) return existing;
  const promise = (async () => {
    if (await exists(path)) return path;
    await mkdir(directory, { recursive: true });
    await generateGguf(path, options);
    return path;
  })();
  pending.set(path, promise);
  promise.catch(() => pending.delete(path));
  return promise;
}
