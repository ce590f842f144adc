/**
 * The `generate`/`stream` pair every client exposes: each call gets its own call signal (caller's
 * signal + dispose + deadline, released when the call ends) and is retried on retryable errors
 * (a stream only before it yielded anything), with errors normalised for the service.
 */
import type { AppError } from "../../errors/index.js";
import type { GenerateRequest, GenerateResult, LanguageModel, StreamPart } from "../port.js";
import type { CallContext } from "./client-options.js";
import { streamWithRetries, withRetries } from "./retry.js";
import type { CallSignal } from "./upstream-errors.js";

export type SingleAttempts = {
  generateOnce(request: GenerateRequest, signal: AbortSignal): Promise<GenerateResult>;
  streamOnce(request: GenerateRequest, signal: AbortSignal): AsyncIterable<StreamPart>;
  /** Turns what one attempt threw into an AppError; the call context's normaliser by default. */
  normalise?: (error: unknown, callSignal: CallSignal) => AppError;
};

export function retryingCalls(
  context: CallContext,
  attempts: SingleAttempts,
): Pick<LanguageModel, "generate" | "stream"> {
  const begin = (callerSignal: AbortSignal | undefined) => {
    const { callSignal, normalise } = context.begin(callerSignal);
    const custom = attempts.normalise;
    return {
      callSignal,
      normalise: custom === undefined ? normalise : (error: unknown) => custom(error, callSignal),
    };
  };
  return {
    async generate(request) {
      const { callSignal, normalise } = begin(request.signal);
      try {
        return await withRetries(
          () => attempts.generateOnce(request, callSignal.signal),
          context.policy,
          callSignal.signal,
          normalise,
        );
      } finally {
        callSignal.release();
      }
    },
    async *stream(request) {
      const { callSignal, normalise } = begin(request.signal);
      try {
        yield* streamWithRetries(
          () => attempts.streamOnce(request, callSignal.signal),
          context.policy,
          callSignal.signal,
          normalise,
        );
      } finally {
        callSignal.release();
      }
    },
  };
}
