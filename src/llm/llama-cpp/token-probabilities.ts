/**
 * What the engines can report about token probabilities: top alternatives and prompt logprobs come
 * from the native loop only (node-llama-cpp exposes neither over the raw distribution).
 */
import { AppError } from "../../errors/index.js";
import type { EngineBackendName } from "./decode-port.js";
import { MAX_TOP_LOGPROBS } from "./engine-types.js";

/** Refuses top alternatives out of range, and what node-llama-cpp cannot report (naming --engine native). */
export function checkTokenProbabilities(engine: EngineBackendName, topLogprobs: number, promptLogprobs: boolean): void {
  if (!Number.isInteger(topLogprobs) || topLogprobs < 0 || topLogprobs > MAX_TOP_LOGPROBS) {
    throw new AppError(
      "validation_error",
      `Input validation error: top log-probabilities must be an integer in [0, ${MAX_TOP_LOGPROBS}]. Given: ${topLogprobs}`,
    );
  }
  if (engine === "native" || (topLogprobs === 0 && !promptLogprobs)) return;
  const what = topLogprobs > 0 ? "top_logprobs / top_n_tokens" : "prompt logprobs (decoder_input_details)";
  throw new AppError(
    "unsupported_by_engine",
    `${what} need the native engine; this server runs node-llama-cpp: build it with npm run build:native and start serve-llm with --engine native`,
    { details: { engine } },
  );
}
