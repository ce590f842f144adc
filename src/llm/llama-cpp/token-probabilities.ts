/**
 * Token probabilities both engines report: each token's logprob, its top alternatives and the
 * prompt tokens' logprobs (the native loop over the raw distribution, node-llama-cpp after its
 * samplers).
 */
import { AppError } from "../../errors/index.js";
import { MAX_TOP_LOGPROBS } from "./engine-types.js";

/** Refuses a number of top alternatives out of range. */
export function checkTokenProbabilities(topLogprobs: number): void {
  if (!Number.isInteger(topLogprobs) || topLogprobs < 0 || topLogprobs > MAX_TOP_LOGPROBS) {
    throw new AppError(
      "validation_error",
      `Input validation error: top log-probabilities must be an integer in [0, ${MAX_TOP_LOGPROBS}]. Given: ${topLogprobs}`,
    );
  }
}
