/**
 * Batch commands (dataset instruct, eval generation) call a server once per item and tolerate a
 * failed item. A server that cannot be reached at all (connection refused, unknown host) or that
 * refuses the credentials (HTTP 401/403) is not a per-item failure: on the first calls it stops the
 * run at once with one line naming the URL and the flag and variable to fix, instead of one failure
 * per item. Once a call has succeeded, later failures are per item again (a restart mid-run).
 */
import { AppError, isAppError } from "../errors/index.js";

const REASONS: Record<string, string> = {
  ECONNREFUSED: "connection refused",
  ENOTFOUND: "unknown host",
  EAI_AGAIN: "unknown host",
  EAI_NONAME: "unknown host",
  EHOSTUNREACH: "host unreachable",
  ENETUNREACH: "network unreachable",
};

/** Why a fetch could not connect at all ("connection refused", "unknown host"…); undefined for other failures. */
export function connectionFailure(error: unknown): string | undefined {
  const pending: unknown[] = [error];
  for (let seen = 0; pending.length > 0 && seen < 10; seen++) {
    const current = pending.shift();
    if (current === null || typeof current !== "object") continue;
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string" && REASONS[code] !== undefined) return REASONS[code];
    // fetch refuses the ports browsers block (9, 25, 6000…) before connecting.
    if ((current as { message?: unknown }).message === "bad port") return "fetch refuses this port: use another";
    pending.push((current as { cause?: unknown }).cause);
    // Happy eyeballs (IPv4 and IPv6 both refused) reports an AggregateError.
    const errors = (current as { errors?: unknown }).errors;
    if (Array.isArray(errors)) pending.push(...errors);
  }
  return undefined;
}

export function credentialsRefused(status: number): boolean {
  return status === 401 || status === 403;
}

export type UnreachableTarget = {
  /** What the run calls, as a user names it: "the writer LLM", "the judge". */
  service: string;
  url: string;
  /** The flag and variable of the URL: "--llm-url (LLM_TWIN_LLM_URL)". */
  urlSetting: string;
  /** The flag and variable of the key, when the command has one. */
  keySetting?: string;
  /** How to start the server, when llm-twin has a command for it. */
  start?: string;
};

/** The run cannot connect to its server: code upstream_unavailable, marked to stop the run. */
export function unreachableError(target: UnreachableTarget, reason: string, cause?: unknown): AppError {
  const start = target.start === undefined ? "start it" : `start it (${target.start})`;
  return new AppError(
    "upstream_unavailable",
    `cannot reach ${target.service} at ${target.url} (${reason}): ${start} or point ${target.urlSetting} at it`,
    { cause, retryable: false, details: { unreachable: true } },
  );
}

/** The server refused the credentials: code unauthorized, marked to stop the run. */
export function credentialsError(target: UnreachableTarget, status: number): AppError {
  const fix =
    target.keySetting === undefined
      ? `check ${target.urlSetting}`
      : `give the right key with ${target.keySetting}, or check ${target.urlSetting}`;
  return new AppError(
    "unauthorized",
    `${target.service} at ${target.url} refused the credentials (HTTP ${status}): ${fix}`,
    {
      retryable: false,
      details: { unreachable: true, upstreamStatus: status },
    },
  );
}

/** True for the errors above: the run stops instead of counting a failed item. */
export function isUnreachableError(error: unknown): error is AppError {
  return isAppError(error) && error.details?.unreachable === true;
}

/**
 * The "stop at once until the first success" rule of one batch run against one server: each call's
 * outcome goes through it, and before any call has succeeded, a connection failure or refused
 * credentials is thrown as the errors above. After a success (or when `enabled` is false) it does nothing.
 */
export type UnreachableGuard = {
  /** A call that could not send (a fetch failure): throws when it could not connect at all. */
  failed(sent: { error: unknown; aborted: boolean; timedOut: boolean }): void;
  /** A call that got an HTTP answer: throws on refused credentials; a 2xx marks the server reached. */
  answered(response: { ok: boolean; status: number }): void;
};

export function createUnreachableGuard(
  target: UnreachableTarget,
  options: { enabled?: boolean } = {},
): UnreachableGuard {
  let reached = options.enabled === false;
  return {
    failed(sent) {
      if (reached || sent.aborted || sent.timedOut) return;
      const reason = connectionFailure(sent.error);
      if (reason !== undefined) throw unreachableError(target, reason, sent.error);
    },
    answered(response) {
      if (reached) return;
      if (credentialsRefused(response.status)) throw credentialsError(target, response.status);
      if (response.ok) reached = true;
    },
  };
}
