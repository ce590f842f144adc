/**
 * node-llama-cpp (3.21) samples each token inside its batch dispatch (LlamaContext's
 * dispatchPendingBatch), a promise nothing awaits. When llama.cpp's sampler throws (a grammar
 * whose every admissible token is banned by logit_bias or ignore_eos: "Failed to accept token in
 * sampler"), the rejection escapes as an unhandled rejection, which ends the process, and the
 * request that asked for the token is never answered.
 *
 * The guard wraps the context's native `sampleToken` so that a failed sampling resolves to
 * node-llama-cpp's own "no token" result (-1): its evaluator then throws "Failed to sample next
 * token" on the request's own path, where the backend maps it to an AppError (samplingFailure).
 */
import type { LlamaContext } from "node-llama-cpp";
import { AppError } from "../../errors/index.js";

/** What node-llama-cpp's evaluator throws when sampling gave no token. */
const NO_TOKEN_MESSAGE = "Failed to sample next token";

export const GRAMMAR_DEAD_END_MESSAGE =
  "Input validation error: the grammar (response_format, grammar or tools) admits no token that logit_bias " +
  "and ignore_eos allow at this point of the output; lift the ban on the tokens the schema needs";

export type SamplingGuard = {
  /** The cause of the last failed sampling (llama.cpp's message), if any. */
  lastFailure(): string | undefined;
};

type SampleToken = (...args: unknown[]) => Promise<unknown>;

/** Installs the guard on the context; undefined when this node-llama-cpp has no such internals. */
export function guardSampling(context: LlamaContext): SamplingGuard | undefined {
  const addon = (context as unknown as { _ctx?: { sampleToken?: SampleToken } })._ctx;
  const sampleToken = addon?.sampleToken;
  if (addon === undefined || typeof sampleToken !== "function" || !Object.isExtensible(addon)) return undefined;
  let failure: string | undefined;
  // The native method is a read-only prototype property: shadowed by an own property.
  Object.defineProperty(addon, "sampleToken", {
    configurable: true,
    value: (...args: unknown[]): Promise<unknown> =>
      sampleToken.apply(addon, args).catch((error: unknown) => {
        failure = error instanceof Error ? error.message : String(error);
        // Called with (index, sampler, probabilities, confidence) it resolves to [token, …].
        return args.length > 2 ? [-1, undefined, undefined] : -1;
      }),
  });
  return { lastFailure: () => failure };
}

/**
 * The request's error when node-llama-cpp found no token: a grammar dead end is the client's
 * mistake (422, the native engine's message), anything else the engine's (500). Other errors pass.
 */
export function samplingFailure(error: unknown, options: { constrained: boolean; cause: string | undefined }): unknown {
  if (!(error instanceof Error) || error.message !== NO_TOKEN_MESSAGE) return error;
  if (options.constrained && options.cause?.includes("grammar") === true) {
    return new AppError("validation_error", GRAMMAR_DEAD_END_MESSAGE, { cause: error });
  }
  return new AppError(
    "internal_error",
    `llama.cpp could not sample the next token: ${options.cause ?? "unknown error"}`,
    {
      cause: error,
    },
  );
}
