/**
 * Options and call plumbing shared by the HTTP clients: defaults, the per-call signal (caller's
 * signal + dispose + deadline), the retry policy, and a health probe that never throws for an
 * unreachable upstream (it answers false) but does throw when the caller aborts.
 */
import { setMaxListeners } from "node:events";
import { AppError } from "../../errors/index.js";
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from "./retry.js";
import { type CallSignal, createCallSignal, toUpstreamError } from "./upstream-errors.js";

export const DEFAULT_TIMEOUT_MS = 120_000;
export const DEFAULT_HEALTH_TIMEOUT_MS = 5_000;

/** What every client accepts about its calls: deadlines, retries and health probes. */
export type CallOptions = {
  /** Model id reported by `LanguageModel.id`; defaults to the URL (SageMaker: `sagemaker:<endpoint>`). */
  id?: string;
  /** Deadline for one whole call (all attempts, and the whole stream), in ms. Default 120000. */
  timeoutMs?: number;
  /** Extra attempts on retryable errors before anything was streamed. Default 2. */
  retries?: number;
  /** First backoff delay in ms (doubled each retry, with jitter). Default 200. */
  retryBaseDelayMs?: number;
  /** Largest backoff delay in ms. Default 5000. */
  retryMaxDelayMs?: number;
  /** Deadline of one health probe in ms. Default 5000. */
  healthTimeoutMs?: number;
  /** Injected randomness for backoff jitter (tests). */
  random?: () => number;
};

export type HttpClientOptions = CallOptions & {
  /** Base URL of the server, e.g. http://localhost:8080. */
  url: string;
  /** Extra request headers (e.g. authorization for a hosted TGI). */
  headers?: Record<string, string>;
  /** Largest JSON response accepted, in bytes. Default 8 MiB. */
  maxResponseBytes?: number;
  /** Injected fetch (tests); the global fetch by default. */
  fetch?: typeof fetch;
};

function positiveInteger(value: number | undefined, fallback: number, name: string, minimum = 1): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < minimum) {
    throw new AppError("configuration_error", `${name} must be an integer ≥ ${minimum}, got ${value}`);
  }
  return value;
}

export type CallContext = {
  service: string;
  timeoutMs: number;
  healthTimeoutMs: number;
  policy: RetryPolicy;
  /** Throws when disposed; returns the combined signal of one call (release it when the call ends) and its error normaliser. */
  begin(callerSignal: AbortSignal | undefined): { callSignal: CallSignal; normalise: (error: unknown) => AppError };
  /** Runs a health probe under its own short deadline: false on upstream failure, throws on caller abort. */
  health(callerSignal: AbortSignal | undefined, probe: (signal: AbortSignal) => Promise<boolean>): Promise<boolean>;
  dispose(): void;
};

export function createCallContext(options: CallOptions, service: string): CallContext {
  const timeoutMs = positiveInteger(options.timeoutMs, DEFAULT_TIMEOUT_MS, "timeoutMs");
  const healthTimeoutMs = positiveInteger(options.healthTimeoutMs, DEFAULT_HEALTH_TIMEOUT_MS, "healthTimeoutMs");
  const policy: RetryPolicy = {
    retries: positiveInteger(options.retries, DEFAULT_RETRY_POLICY.retries, "retries", 0),
    baseDelayMs: positiveInteger(options.retryBaseDelayMs, DEFAULT_RETRY_POLICY.baseDelayMs, "retryBaseDelayMs", 0),
    maxDelayMs: positiveInteger(options.retryMaxDelayMs, DEFAULT_RETRY_POLICY.maxDelayMs, "retryMaxDelayMs", 0),
    ...(options.random === undefined ? {} : { random: options.random }),
  };
  const disposer = new AbortController();
  // Every call in flight listens on it (and detaches when it ends): many concurrent calls are not a leak.
  setMaxListeners(0, disposer.signal);
  const assertOpen = (): void => {
    if (disposer.signal.aborted) {
      throw new AppError("shutting_down", `The ${service} client was disposed`, { retryable: false });
    }
  };
  return {
    service,
    timeoutMs,
    healthTimeoutMs,
    policy,
    begin(callerSignal) {
      assertOpen();
      const callSignal = createCallSignal([callerSignal, disposer.signal], timeoutMs, service);
      return { callSignal, normalise: (error) => toUpstreamError(error, callSignal, service) };
    },
    async health(callerSignal, probe) {
      assertOpen();
      const callSignal = createCallSignal([callerSignal, disposer.signal], healthTimeoutMs, service);
      try {
        return await probe(callSignal.signal);
      } catch (error) {
        const typed = toUpstreamError(error, callSignal, service);
        if (typed.code === "aborted") throw typed;
        return false;
      } finally {
        callSignal.release();
      }
    },
    dispose() {
      disposer.abort(new AppError("shutting_down", `The ${service} client was disposed`, { retryable: false }));
    },
  };
}
