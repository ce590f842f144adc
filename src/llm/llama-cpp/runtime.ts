/**
 * Which llama.cpp binary node-llama-cpp loaded, and the thread count that suits it.
 *
 * node-llama-cpp ships portable prebuilt binaries (one per CPU family, no OpenMP) and can build
 * llama.cpp for this machine from the source it bundles (`npm run build:llama`: `GGML_NATIVE`,
 * OpenMP). Measured on 2 cores with the native engine and the current thread defaults
 * (docs/benchmarks.md): about the same tokens/s at 1 client, ~1.3× at 4 and ~1.4× at 8; its persistent OpenMP thread team makes a second thread pay off, where the
 * prebuilt binary's per-decode threads made 2 threads 2–4× slower than 1.
 */
import { readFileSync } from "node:fs";
import os from "node:os";
import type { Llama } from "node-llama-cpp";

export type LlamaRuntime = {
  /** "local": built on this machine by `npm run build:llama`; "prebuilt": node-llama-cpp's portable binary. */
  build: "local" | "prebuilt";
  /** The loaded llama.cpp runs its compute threads as an OpenMP team (libgomp is mapped). */
  openmp: boolean;
};

export function describeRuntime(llama: Llama, maps: string = readMaps()): LlamaRuntime {
  return {
    build: llama.buildType === "localBuild" ? "local" : "prebuilt",
    openmp: /\/lib(g?omp)[^/\s]*\.so/.test(maps),
  };
}

/**
 * All cores when llama.cpp keeps an OpenMP team, else one core fewer (left to the event loop and
 * node-llama-cpp's sampling calls), at least 1.
 */
export function defaultThreads(runtime: LlamaRuntime, cores: number = os.availableParallelism()): number {
  return runtime.openmp ? Math.max(1, cores) : Math.max(1, cores - 1);
}

/**
 * Prompts and decodes of several sequences: `threads` when the operator chose it (llama.cpp's -tb
 * defaults to -t), else every core. On 2 cores with the prebuilt binary and the native engine: 1
 * thread for one-token decodes, 2 for batches gave 255 / 355 / 434 tok/s at 1 / 4 / 8 clients where
 * 1 thread for everything gave 255 / 331 / 301 and 2 for everything 149 / 355 / 434.
 */
export function defaultThreadsBatch(
  explicitThreads: number | undefined,
  cores: number = os.availableParallelism(),
): number {
  return explicitThreads ?? Math.max(1, cores);
}

/** What the start-up log says about the binary, with the hint to build one where it helps. */
export function describeForLog(runtime: LlamaRuntime): string {
  if (runtime.build === "local") return `llama.cpp built for this machine${runtime.openmp ? " (OpenMP)" : ""}`;
  return "llama.cpp portable prebuilt binary; `npm run build:llama` builds one for this CPU (~1.3–1.4× the tokens/s with 4–8 clients, about the same with 1; docs/benchmarks.md)";
}

/** The shared objects mapped into this process (/proc/self/maps; empty where there is none). */
export function readMaps(): string {
  try {
    return readFileSync("/proc/self/maps", "utf8");
  } catch {
    return "";
  }
}
