/**
 * Every upstream call (LLM, store, embedder, reranker) goes through `callUpstream`: it gets its own
 * AbortSignal that fires on the caller's abort or on the timeout, the call is raced against that
 * signal (an adapter that ignores signals still cannot hold the request), and failures become
 * AppErrors with stable codes: `timeout` (504), `aborted`, `upstream_unavailable` (503) for
 * refused connections, `upstream_error` (502) otherwise. AppErrors thrown by adapters pass through.
 */
import { AppError, isAbortError, isAppError } from "../errors/index.js";

export type UpstreamName = "llm" | "store" | "embedder" | "reranker";

const CONNECTION_ERROR_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ENOTFOUND",
  "EHOSTUNREACH",
  "EPIPE",
  "UND_ERR_SOCKET",
]);

function connectionErrorCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current !== undefined && current !== null; depth += 1) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string" && CONNECTION_ERROR_CODES.has(code)) return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

export function timeoutError(what: string, timeoutMs: number): AppError {
  return new AppError("timeout", `${what} did not answer within ${timeoutMs} ms`, { details: { timeoutMs } });
}

export function abortedError(what: string): AppError {
  return new AppError("aborted", `${what} was cancelled: the client went away`);
}

/** Maps any failure of an upstream call to an AppError (see the file comment). */
export function toUpstreamError(
  what: string,
  error: unknown,
  state: { timedOut: boolean; timeoutMs: number; parentAborted: boolean },
): AppError {
  if (state.timedOut) return timeoutError(what, state.timeoutMs);
  if (state.parentAborted) return abortedError(what);
  if (isAppError(error)) return error;
  if (isAbortError(error)) return abortedError(what);
  const connection = connectionErrorCode(error);
  if (connection !== undefined) {
    return new AppError("upstream_unavailable", `${what} is unreachable (${connection})`, { cause: error });
  }
  return new AppError("upstream_error", `${what} failed`, { cause: error });
}

export type DeadlineSignal = {
  signal: AbortSignal;
  state: { timedOut: boolean; parentAborted: boolean; timeoutMs: number };
  dispose(): void;
};

/** A signal that fires on `parent` or after `timeoutMs`, and tells which one fired. */
export function deadlineSignal(parent: AbortSignal | undefined, timeoutMs: number): DeadlineSignal {
  const controller = new AbortController();
  const state = { timedOut: false, parentAborted: false, timeoutMs };
  const timer = setTimeout(() => {
    state.timedOut = true;
    controller.abort(new DOMException(`timed out after ${timeoutMs} ms`, "TimeoutError"));
  }, timeoutMs);
  timer.unref?.();
  const onParentAbort = () => {
    state.parentAborted = true;
    controller.abort(parent?.reason);
  };
  if (parent?.aborted) onParentAbort();
  else parent?.addEventListener("abort", onParentAbort, { once: true });
  return {
    signal: controller.signal,
    state,
    dispose() {
      clearTimeout(timer);
      parent?.removeEventListener("abort", onParentAbort);
    },
  };
}

export async function callUpstream<T>(
  what: string,
  timeoutMs: number,
  parent: AbortSignal | undefined,
  call: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const deadline = deadlineSignal(parent, timeoutMs);
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_resolve, reject) => {
    onAbort = () => reject(deadline.signal.reason);
    if (deadline.signal.aborted) onAbort();
    else deadline.signal.addEventListener("abort", onAbort, { once: true });
  });
  aborted.catch(() => {});
  try {
    return await Promise.race([call(deadline.signal), aborted]);
  } catch (error) {
    throw toUpstreamError(what, error, deadline.state);
  } finally {
    if (onAbort !== undefined) deadline.signal.removeEventListener("abort", onAbort);
    deadline.dispose();
  }
}
