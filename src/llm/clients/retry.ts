/**
 * Retries with exponential backoff and full jitter, only for errors marked retryable, honouring
 * the upstream's Retry-After (capped by maxDelayMs). Backoff sleeps end early when the signal aborts.
 */
import { AppError, isAppError } from "../../errors/index.js";

export type RetryPolicy = {
  /** Extra attempts after the first one (0 disables retries). */
  retries: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** Injected for tests; Math.random by default. */
  random?: () => number;
};

export const DEFAULT_RETRY_POLICY: RetryPolicy = { retries: 2, baseDelayMs: 200, maxDelayMs: 5_000 };

/** Delay before retry number `attempt` (0-based): random in [0.5, 1] × min(max, base × 2^attempt). */
export function backoffDelay(policy: RetryPolicy, attempt: number, retryAfterMs?: number): number {
  const random = policy.random ?? Math.random;
  const exponential = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** attempt);
  const jittered = exponential * (0.5 + random() / 2);
  if (retryAfterMs !== undefined) return Math.min(policy.maxDelayMs, Math.max(jittered, retryAfterMs));
  return jittered;
}

export function sleep(milliseconds: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, milliseconds);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

export function shouldRetry(error: unknown, attempt: number, policy: RetryPolicy): error is AppError {
  return isAppError(error) && error.retryable && error.code !== "aborted" && attempt < policy.retries;
}

function retryAfterOf(error: AppError): number | undefined {
  const value = error.details?.retryAfterMs;
  return typeof value === "number" ? value : undefined;
}

/** Waits before the next attempt; an abort during the wait is thrown as a normalised error. */
async function backOff(
  policy: RetryPolicy,
  attempt: number,
  error: AppError,
  signal: AbortSignal,
  normalise: (error: unknown) => AppError,
): Promise<void> {
  try {
    await sleep(backoffDelay(policy, attempt, retryAfterOf(error)), signal);
  } catch (abortReason) {
    throw normalise(abortReason);
  }
}

/**
 * Run `operation` until it succeeds, a non-retryable error occurs or the retries are spent.
 * `normalise` turns whatever was thrown into an AppError (so abort and network errors are typed).
 */
export async function withRetries<T>(
  operation: (attempt: number) => Promise<T>,
  policy: RetryPolicy,
  signal: AbortSignal,
  normalise: (error: unknown) => AppError,
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await operation(attempt);
    } catch (thrown) {
      const error = normalise(thrown);
      if (!shouldRetry(error, attempt, policy)) throw error;
      await backOff(policy, attempt, error, signal, normalise);
    }
  }
}

/**
 * Stream with retries: the stream is restarted only when it failed before yielding anything;
 * once a part was yielded, the error is thrown to the consumer (a restart would repeat text).
 */
export async function* streamWithRetries<T>(
  open: (attempt: number) => AsyncIterable<T>,
  policy: RetryPolicy,
  signal: AbortSignal,
  normalise: (error: unknown) => AppError,
): AsyncGenerator<T> {
  for (let attempt = 0; ; attempt++) {
    let yielded = 0;
    try {
      for await (const part of open(attempt)) {
        yielded++;
        yield part;
      }
      return;
    } catch (thrown) {
      const error = normalise(thrown);
      if (yielded > 0 || !shouldRetry(error, attempt, policy)) {
        if (yielded > 0 && error.code !== "aborted" && error.code !== "timeout") {
          throw new AppError(error.code, `${error.message} after ${yielded} streamed parts`, {
            cause: error,
            retryable: error.retryable,
            details: { ...error.details, partsStreamed: yielded },
          });
        }
        throw error;
      }
      await backOff(policy, attempt, error, signal, normalise);
    }
  }
}
