/**
 * The service's model slot: loading → ready (or failed), then stopping. The HTTP server listens
 * before the model loads, so every route asks the holder for the engine and gets a 503 until then.
 */
import { AppError } from "../errors/index.js";
import type { LlamaCppEngine } from "../llm/llama-cpp/index.js";

export type ModelState = "loading" | "ready" | "failed" | "stopping";

export type ModelHolder = {
  readonly state: ModelState;
  /** Load progress in [0, 1] while loading. */
  readonly progress: number;
  readonly engine: LlamaCppEngine | undefined;
  /** The engine, or `model_loading` / `shutting_down` / `dependency_unavailable`. */
  require(): LlamaCppEngine;
  setProgress(fraction: number): void;
  setReady(engine: LlamaCppEngine): void;
  setFailed(error: unknown): void;
  setStopping(): void;
};

export function createModelHolder(): ModelHolder {
  let state: ModelState = "loading";
  let progress = 0;
  let engine: LlamaCppEngine | undefined;
  let failure: unknown;
  return {
    get state() {
      return state;
    },
    get progress() {
      return progress;
    },
    get engine() {
      return engine;
    },
    require() {
      if (state === "ready" && engine !== undefined) return engine;
      if (state === "loading") {
        throw new AppError("model_loading", `The model is loading (${Math.round(progress * 100)}%)`, {
          retryable: true,
        });
      }
      if (state === "stopping") throw new AppError("shutting_down", "The server is shutting down", { retryable: true });
      throw new AppError("dependency_unavailable", "The model failed to load", { cause: failure, retryable: false });
    },
    setProgress(fraction) {
      progress = fraction;
    },
    setReady(loaded) {
      engine = loaded;
      progress = 1;
      if (state === "loading") state = "ready";
    },
    setFailed(error) {
      failure = error;
      state = "failed";
    },
    setStopping() {
      state = "stopping";
    },
  };
}
