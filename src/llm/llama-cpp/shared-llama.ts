/**
 * One node-llama-cpp runtime (`getLlama()`) per process, shared by the engine, GGUF embedders and
 * rerankers, released when its last user lets go.
 *
 * With the prebuilt binary on Linux, `getLlama()` first tests the binary in a child process on
 * every start (0.5–1.2 s measured on 2 busy cores) before loading it. That wait uses neither the
 * main thread nor libuv's pool, so `serve` and `serve-llm` call `startLlama()` first thing and the
 * test overlaps their other imports, the store opening and the embedder (docs/benchmarks.md,
 * start-up).
 */
import { subscribe, unsubscribe } from "node:diagnostics_channel";
import os from "node:os";
import { getLlama, type Llama, LlamaLogLevel } from "node-llama-cpp";

export type SharedLlama = {
  llama: Llama;
  /** Lets go of this use; the runtime is disposed when no use is left. */
  release(): Promise<void>;
};

let pending: Promise<Llama> | undefined;
/** What startLlama() returned, and for which load. */
let startedFor: { load: Promise<Llama>; started: Promise<void> } | undefined;
let users = 0;

/**
 * Starts loading the runtime unless it is loading or loaded already; never rejects (a failure is
 * reported by the `acquireLlama()` that follows). Resolves once the binary's test runs in its child
 * process (Node's "child_process" diagnostics channel reports the spawn), or once the runtime has
 * loaded or failed when there is no test: awaiting it before other work on this thread lets the
 * few steps before the test run first, so the test starts early and the rest overlaps it.
 */
export function startLlama(): Promise<void> {
  // Called again while the same load runs (the CLI starts it before `serve` loads): the same answer.
  if (startedFor !== undefined && startedFor.load === pending) return startedFor.started;
  let resolveStarted: () => void = () => undefined;
  const started = new Promise<void>((resolve) => {
    resolveStarted = resolve;
  });
  const done = (): void => {
    unsubscribe("child_process", done);
    resolveStarted();
  };
  subscribe("child_process", done);
  const load = loading();
  load.then(done, done);
  startedFor = { load, started };
  return started;
}

function loading(): Promise<Llama> {
  if (pending === undefined) {
    const started = getLlama({
      gpu: false,
      build: "never",
      // A cap: each context sets its own thread counts.
      maxThreads: os.availableParallelism(),
      logLevel: LlamaLogLevel.error,
    });
    pending = started;
    // A failed start is not kept: the next user tries again.
    started.catch(() => {
      if (pending === started) pending = undefined;
    });
  }
  return pending;
}

/** The shared runtime, started now unless `startLlama()` did already; `maxThreads` raises its cap. */
export async function acquireLlama(options: { maxThreads?: number } = {}): Promise<SharedLlama> {
  const current = loading();
  users += 1;
  let llama: Llama;
  try {
    llama = await current;
  } catch (error) {
    users -= 1;
    throw error;
  }
  if (options.maxThreads !== undefined && options.maxThreads > llama.maxThreads) llama.maxThreads = options.maxThreads;
  let released = false;
  return {
    llama,
    async release() {
      if (released) return;
      released = true;
      users -= 1;
      if (users > 0) return;
      if (pending === current) pending = undefined;
      await llama.dispose();
    },
  };
}
