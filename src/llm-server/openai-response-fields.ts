/**
 * Fields of OpenAI's response objects that do not depend on the generated text: `usage` (with
 * `prompt_tokens_details.cached_tokens`, the prompt tokens the prompt cache served) and
 * `system_fingerprint` (the backend configuration a `seed` reproduces under).
 */
import { createHash } from "node:crypto";
import type { EngineEvent, LlamaCppEngine } from "../llm/llama-cpp/index.js";

type Done = Extract<EngineEvent, { type: "done" }>;

export type OpenAiUsage = {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details: { cached_tokens: number };
};

/** The prompt counts once, however many choices shared it; completion tokens add up. */
export function openAiUsage(done: readonly Done[]): OpenAiUsage {
  const promptTokens = done[0]?.promptTokens ?? 0;
  const completionTokens = done.reduce((sum, event) => sum + event.completionTokens, 0);
  return {
    prompt_tokens: promptTokens,
    completion_tokens: completionTokens,
    total_tokens: promptTokens + completionTokens,
    prompt_tokens_details: { cached_tokens: done[0]?.cachedPromptTokens ?? 0 },
  };
}

const fingerprints = new WeakMap<LlamaCppEngine, Map<string, string>>();

/**
 * `fp_` + 12 hex digits of a hash of what decides the output for a given seed: the model (id and
 * file), the adapter and its scale, the engine and the llama.cpp build. It changes when one of them
 * does (a reload, another adapter), as OpenAI's changes with its backend.
 */
export function systemFingerprint(engine: LlamaCppEngine, adapter: string | undefined): string {
  let perAdapter = fingerprints.get(engine);
  if (perAdapter === undefined) {
    perAdapter = new Map();
    fingerprints.set(engine, perAdapter);
  }
  const key = adapter ?? "";
  const known = perAdapter.get(key);
  if (known !== undefined) return known;
  const scale = engine.info.adapters.find((candidate) => candidate.name === adapter)?.scale ?? null;
  const configuration = JSON.stringify([
    engine.modelId,
    engine.info.modelPath,
    adapter ?? null,
    scale,
    engine.info.engine,
    engine.info.runtime.build,
  ]);
  const fingerprint = `fp_${createHash("sha256").update(configuration).digest("hex").slice(0, 12)}`;
  perAdapter.set(key, fingerprint);
  return fingerprint;
}
