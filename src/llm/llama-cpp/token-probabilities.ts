/**
 * What the engines can report about token probabilities: both report each token's logprob and its
 * top alternatives (the native loop over the raw distribution, node-llama-cpp after its samplers);
 * prompt logprobs come from the native loop only.
 */
import { AppError } from "../../errors/index.js";
import type { EngineBackendName } from "./decode-port.js";
import { MAX_TOP_LOGPROBS } from "./engine-types.js";

/** Refuses top alternatives out of range, and prompt logprobs on node-llama-cpp (naming --engine native). */
export function checkTokenProbabilities(engine: EngineBackendName, topLogprobs: number, promptLogprobs: boolean): void {
  if (!Number.isInteger(topLogprobs) || topLogprobs < 0 || topLogprobs > MAX_TOP_LOGPROBS) {
    throw new AppError(
      "validation_error",
      `Input validation error: top log-probabilities must be an integer in [0, ${MAX_TOP_LOGPROBS}]. Given: ${topLogprobs}`,
    );
  }
  if (engine === "native" || !promptLogprobs) return;
  throw new AppError(
    "unsupported_by_engine",
    `prompt logprobs (decoder_input_details) need the native engine; this server runs node-llama-cpp: build it with npm run build:native and start serve-llm with --engine native`,
    { details: { engine } },
  );
}
