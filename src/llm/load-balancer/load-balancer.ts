/**
 * A LanguageModel that spreads requests over several replicas (each a LanguageModel, usually an
 * HTTP client of one LLM service process):
 * - choice: the healthy replica with the fewest outstanding requests (ties rotate);
 * - health: periodic `health()` probes; a replica is marked down after `unhealthyAfterFailures`
 *   failed probes in a row, or at once when a request to it fails with a connection error
 *   (upstream_unavailable); it is marked up again by a successful probe or request;
 * - failover: a request that fails with a retryable error before anything was streamed is retried
 *   on another replica (each replica at most once per request). When no healthy replica is left,
 *   the ones marked down are tried as a last resort, so recovery does not wait for the next probe;
 * - a stream that fails after it started is NOT replayed (the caller already has part of the text):
 *   it fails with the replica's error code (upstream_unavailable for a killed replica), a message
 *   naming the replica, and details {replica, partsStreamed}.
 */
import { AppError, isAppError } from "../../errors/index.js";
import type { GenerateRequest, GenerateResult, LanguageModel, StreamPart } from "../port.js";

export type Replica = { id: string; model: LanguageModel };

export type LoadBalancerOptions = {
  /** `LanguageModel.id` of the balancer; defaults to the replica ids joined with ",". */
  id?: string;
  /** Period of the health probes in ms; 0 disables periodic probes. Default 5000. */
  healthIntervalMs?: number;
  /** Deadline of one probe in ms. Default 2000. */
  healthTimeoutMs?: number;
  /** Consecutive failed probes before a replica is skipped. Default 2. */
  unhealthyAfterFailures?: number;
  /** Consecutive successful probes before a skipped replica gets traffic again. Default 1. */
  healthyAfterSuccesses?: number;
  /** Called when a replica goes down or comes back (for logs and metrics). */
  onReplicaStateChange?: (event: { replica: string; healthy: boolean; reason: string }) => void;
};

export type ReplicaStats = {
  id: string;
  healthy: boolean;
  outstanding: number;
  requests: number;
  /** Requests that failed on this replica (cancellations by the caller are not counted). */
  failures: number;
  consecutiveProbeFailures: number;
  lastError?: string;
};

export type LoadBalancedLanguageModel = LanguageModel & {
  /** A snapshot of every replica's state and counters. */
  stats(): ReplicaStats[];
  /** Probe every replica now (also what the timer does). */
  checkHealth(): Promise<void>;
};

type ReplicaState = ReplicaStats & { model: LanguageModel; consecutiveProbeSuccesses: number };

function integerOption(value: number | undefined, fallback: number, name: string, minimum: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < minimum) {
    throw new AppError("configuration_error", `${name} must be an integer ≥ ${minimum}, got ${value}`);
  }
  return value;
}

function asAppError(error: unknown): AppError {
  if (isAppError(error)) return error;
  return new AppError("upstream_error", "An LLM replica failed", { cause: error, retryable: false });
}

export function createLoadBalancedLanguageModel(
  replicas: readonly Replica[],
  options: LoadBalancerOptions = {},
): LoadBalancedLanguageModel {
  if (replicas.length === 0)
    throw new AppError("configuration_error", "The LLM load balancer needs at least one replica");
  const ids = new Set(replicas.map((replica) => replica.id));
  if (ids.size !== replicas.length) throw new AppError("configuration_error", "LLM replica ids must be unique");
  const healthIntervalMs = integerOption(options.healthIntervalMs, 5_000, "healthIntervalMs", 0);
  const healthTimeoutMs = integerOption(options.healthTimeoutMs, 2_000, "healthTimeoutMs", 1);
  const unhealthyAfterFailures = integerOption(options.unhealthyAfterFailures, 2, "unhealthyAfterFailures", 1);
  const healthyAfterSuccesses = integerOption(options.healthyAfterSuccesses, 1, "healthyAfterSuccesses", 1);

  const states: ReplicaState[] = replicas.map((replica) => ({
    id: replica.id,
    model: replica.model,
    healthy: true,
    outstanding: 0,
    requests: 0,
    failures: 0,
    consecutiveProbeFailures: 0,
    consecutiveProbeSuccesses: 0,
  }));
  let rotation = 0;
  let disposed = false;
  let probing: Promise<void> | undefined;

  const setHealthy = (state: ReplicaState, healthy: boolean, reason: string): void => {
    if (state.healthy === healthy) return;
    state.healthy = healthy;
    options.onReplicaStateChange?.({ replica: state.id, healthy, reason });
  };

  /** Least outstanding requests among healthy untried replicas; the down ones only as a last resort. */
  const choose = (tried: ReadonlySet<string>): ReplicaState | undefined => {
    const untried = states.filter((state) => !tried.has(state.id));
    const healthy = untried.filter((state) => state.healthy);
    const pool = healthy.length > 0 ? healthy : untried;
    if (pool.length === 0) return undefined;
    const fewest = Math.min(...pool.map((state) => state.outstanding));
    const candidates = pool.filter((state) => state.outstanding === fewest);
    rotation = (rotation + 1) % Number.MAX_SAFE_INTEGER;
    return candidates[rotation % candidates.length];
  };

  const recordFailure = (state: ReplicaState, error: AppError): void => {
    // A caller that cancels is not the replica's failure.
    if (error.code === "aborted") return;
    state.failures++;
    state.lastError = `${error.code}: ${error.message}`;
    if (error.code === "upstream_unavailable") setHealthy(state, false, `request failed: ${error.message}`);
  };

  const recordSuccess = (state: ReplicaState): void => {
    setHealthy(state, true, "request succeeded");
  };

  const canFailOver = (error: AppError, request: GenerateRequest): boolean =>
    error.retryable && error.code !== "aborted" && request.signal?.aborted !== true && !disposed;

  const exhausted = (errors: AppError[]): AppError => {
    if (disposed) return new AppError("shutting_down", "The LLM load balancer was disposed", { retryable: false });
    const overloaded = errors.find((error) => error.code === "overloaded");
    const last = errors[errors.length - 1];
    const chosen = overloaded ?? last;
    if (chosen === undefined) {
      return new AppError("upstream_unavailable", "No LLM replica is available", { retryable: true });
    }
    return new AppError(chosen.code, `All ${states.length} LLM replicas failed; last error: ${chosen.message}`, {
      cause: chosen,
      retryable: chosen.retryable,
      details: { ...chosen.details, replicasTried: errors.length },
    });
  };

  /** The next replica not tried yet for this request, counted as busy (or the combined error when none is left). */
  const takeReplica = (tried: Set<string>, errors: AppError[]): ReplicaState => {
    const state = choose(tried);
    if (state === undefined) throw exhausted(errors);
    tried.add(state.id);
    state.outstanding++;
    state.requests++;
    return state;
  };

  const assertOpen = (): void => {
    if (disposed) throw new AppError("shutting_down", "The LLM load balancer was disposed", { retryable: false });
  };

  async function generate(request: GenerateRequest): Promise<GenerateResult> {
    assertOpen();
    const tried = new Set<string>();
    const errors: AppError[] = [];
    for (;;) {
      const state = takeReplica(tried, errors);
      try {
        const result = await state.model.generate(request);
        recordSuccess(state);
        return result;
      } catch (thrown) {
        const error = asAppError(thrown);
        recordFailure(state, error);
        if (!canFailOver(error, request)) throw error;
        errors.push(error);
      } finally {
        state.outstanding--;
      }
    }
  }

  async function* stream(request: GenerateRequest): AsyncGenerator<StreamPart> {
    assertOpen();
    const tried = new Set<string>();
    const errors: AppError[] = [];
    for (;;) {
      const state = takeReplica(tried, errors);
      let partsStreamed = 0;
      try {
        for await (const part of state.model.stream(request)) {
          partsStreamed++;
          yield part;
        }
        recordSuccess(state);
        return;
      } catch (thrown) {
        const error = asAppError(thrown);
        recordFailure(state, error);
        if (partsStreamed > 0) {
          if (error.code === "aborted" || error.code === "timeout") throw error;
          throw new AppError(error.code, `LLM replica ${state.id} failed mid-stream: ${error.message}`, {
            cause: error,
            retryable: error.retryable,
            details: { ...error.details, replica: state.id, partsStreamed },
          });
        }
        if (!canFailOver(error, request)) throw error;
        errors.push(error);
      } finally {
        state.outstanding--;
      }
    }
  }

  async function probeOne(state: ReplicaState): Promise<void> {
    let healthy: boolean;
    let reason = "health check failed";
    try {
      healthy = await state.model.health({ signal: AbortSignal.timeout(healthTimeoutMs) });
    } catch (error) {
      healthy = false;
      reason = `health check failed: ${error instanceof Error ? error.message : String(error)}`;
    }
    if (healthy) {
      state.consecutiveProbeFailures = 0;
      state.consecutiveProbeSuccesses++;
      if (state.consecutiveProbeSuccesses >= healthyAfterSuccesses) setHealthy(state, true, "health check passed");
    } else {
      state.consecutiveProbeSuccesses = 0;
      state.consecutiveProbeFailures++;
      if (state.consecutiveProbeFailures >= unhealthyAfterFailures) setHealthy(state, false, reason);
    }
  }

  function checkHealth(): Promise<void> {
    if (disposed) return Promise.resolve();
    probing ??= Promise.all(states.map(probeOne))
      .then(() => undefined)
      .finally(() => {
        probing = undefined;
      });
    return probing;
  }

  const timer =
    healthIntervalMs > 0
      ? setInterval(() => {
          void checkHealth();
        }, healthIntervalMs)
      : undefined;
  timer?.unref();

  return {
    id: options.id ?? states.map((state) => state.id).join(","),
    generate,
    stream,
    async health(healthOptions) {
      assertOpen();
      if (healthOptions?.signal?.aborted) {
        throw new AppError("aborted", "The health check was cancelled", { retryable: false });
      }
      await checkHealth();
      return states.some((state) => state.healthy);
    },
    stats() {
      return states.map((state) => {
        const { model: _model, consecutiveProbeSuccesses: _successes, ...stats } = state;
        return { ...stats };
      });
    },
    checkHealth,
    async [Symbol.asyncDispose]() {
      if (disposed) return;
      disposed = true;
      if (timer !== undefined) clearInterval(timer);
      await probing?.catch(() => undefined);
      await Promise.allSettled(states.map((state) => state.model[Symbol.asyncDispose]()));
    },
  };
}
