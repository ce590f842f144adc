/**
 * Fail fast when the queue's Redis is not there: one connection attempt with a deadline, one
 * PING, then close. Commands that touch the queue call this before anything else, so a Redis that
 * is down (or a wrong URL) gives one clear `dependency_unavailable` line instead of BullMQ's
 * endless reconnect loop, and a signal stops the wait at once.
 */
import type { Queue } from "bullmq";
import { Redis } from "ioredis";
import { AppError } from "../errors/index.js";
import {
  DEFAULT_QUEUE_CONNECT_TIMEOUT_MS,
  QUEUE_CONNECT_TIMEOUT_VARIABLE,
  QUEUE_URL_VARIABLE,
  validateQueueUrl,
} from "./config.js";

const TIMEOUT_FLAG = "--queue-connect-timeout-ms";

export type QueueReachabilityOptions = {
  queueUrl: string;
  /** Default DEFAULT_QUEUE_CONNECT_TIMEOUT_MS. */
  timeoutMs?: number;
  signal?: AbortSignal;
};

/** The URL without its password, for messages. */
export function redactQueueUrl(queueUrl: string): string {
  try {
    const url = new URL(queueUrl);
    if (url.password !== "") url.password = "***";
    return url.toString().replace(/\/$/, "");
  } catch {
    return queueUrl;
  }
}

/** Resolves when Redis answers PING within the timeout; else throws `dependency_unavailable` (or `aborted`). */
export async function assertQueueReachable(options: QueueReachabilityOptions): Promise<void> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_QUEUE_CONNECT_TIMEOUT_MS;
  const where = redactQueueUrl(validateQueueUrl(options.queueUrl));
  const client = new Redis(options.queueUrl, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    // One attempt: no reconnect loop, no queued commands, no retries.
    retryStrategy: () => null,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
  });
  let lastError: unknown;
  // Without a listener ioredis prints every connection error with its stack.
  client.on("error", (error: unknown) => {
    lastError = error;
  });
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  try {
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    });
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => reject(new AppError("aborted", "interrupted while connecting to the queue"));
      if (options.signal?.aborted) onAbort();
      else options.signal?.addEventListener("abort", onAbort, { once: true });
    });
    await Promise.race([
      (async () => {
        await client.connect();
        await client.ping();
      })(),
      deadline,
      aborted,
    ]);
  } catch (error) {
    if (error instanceof AppError) throw error;
    const reason = describeConnectionError(lastError ?? error);
    throw new AppError(
      "dependency_unavailable",
      `cannot reach the queue's Redis at ${where} (${reason}): start Redis or fix the URL (--queue, ${QUEUE_URL_VARIABLE}); the wait is ${timeoutMs} ms (${TIMEOUT_FLAG}, ${QUEUE_CONNECT_TIMEOUT_VARIABLE})`,
      { cause: error },
    );
  } finally {
    clearTimeout(timer);
    if (onAbort !== undefined) options.signal?.removeEventListener("abort", onAbort);
    client.disconnect();
  }
}

export type QueueGuard = {
  /** The error to throw for a failed queue operation: `aborted` after a signal, `dependency_unavailable` after a lost connection. */
  translate(error: unknown): unknown;
  dispose(): void;
};

/**
 * Keeps BullMQ's connection errors off the terminal (it prints them with their stacks when a queue
 * has no listener), and on abort closes the queues' connections so a command waiting for Redis
 * returns at once.
 */
export function guardQueues(
  queues: readonly Pick<Queue, "on" | "disconnect">[],
  options: { queueUrl: string; signal?: AbortSignal | undefined },
): QueueGuard {
  let lastError: unknown;
  for (const queue of queues)
    queue.on("error", (error: Error) => {
      lastError = error;
    });
  const onAbort = (): void => {
    for (const queue of queues) queue.disconnect().catch(() => undefined);
  };
  options.signal?.addEventListener("abort", onAbort, { once: true });
  return {
    translate(error) {
      if (options.signal?.aborted) return new AppError("aborted", "interrupted", { cause: options.signal.reason });
      if (error instanceof AppError) return error;
      const connectionLost =
        lastError !== undefined || /connection|ECONNREFUSED|ETIMEDOUT|max retries/i.test(String(error));
      if (!connectionLost) return error;
      return new AppError(
        "dependency_unavailable",
        `lost the queue's Redis at ${redactQueueUrl(options.queueUrl)} (${describeConnectionError(lastError ?? error)}): check that Redis is running and run the command again`,
        { cause: error },
      );
    },
    dispose() {
      options.signal?.removeEventListener("abort", onAbort);
    },
  };
}

function describeConnectionError(error: unknown): string {
  if (error instanceof Error && /Unknown RESP type|Protocol error/i.test(error.message))
    return "the server there does not speak the Redis protocol";
  if (error instanceof Error) {
    const code = (error as NodeJS.ErrnoException).code;
    const firstLine = (error.message.split("\n")[0] ?? "").trim();
    return code !== undefined && !firstLine.includes(code) ? `${code}: ${firstLine}` : firstLine;
  }
  return String(error);
}
