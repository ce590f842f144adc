/**
 * The feedback port on Redis, for replicas that must share the feedback (`--feedback-store
 * redis://…`). One Redis list of JSON entries, newest at the head, trimmed to `capacity` on every
 * add (retention). Fails fast when Redis is not there at start (the queue's reachability check);
 * when Redis goes away later the calls fail at once with `dependency_unavailable` (503) — no
 * offline queue, no retries — and the client reconnects in the background, so /rag never waits on it.
 */
import { Redis } from "ioredis";
import { AppError } from "../../errors/index.js";
import { assertQueueReachable, redactQueueUrl } from "../../queue/reachability.js";
import type { FeedbackEntry, FeedbackStore } from "./store.js";

export const FEEDBACK_STORE_VARIABLE = "LLM_TWIN_FEEDBACK_STORE";
export const DEFAULT_FEEDBACK_REDIS_KEY = "llm-twin:feedback";
export const DEFAULT_FEEDBACK_CONNECT_TIMEOUT_MS = 5000;

export type RedisFeedbackStoreOptions = {
  /** redis:// or rediss:// URL. */
  url: string;
  /** Entries kept (the oldest go first). */
  capacity: number;
  /** The Redis list holding the entries. */
  key?: string;
  /** Wait for Redis at start (default DEFAULT_FEEDBACK_CONNECT_TIMEOUT_MS). */
  connectTimeoutMs?: number;
  signal?: AbortSignal;
};

/** True for the values of --feedback-store that name a Redis. */
export function isRedisUrl(value: string): boolean {
  return /^rediss?:\/\//i.test(value);
}

function parseEntries(items: readonly string[]): FeedbackEntry[] {
  const entries: FeedbackEntry[] = [];
  for (const item of items) {
    try {
      entries.push(JSON.parse(item) as FeedbackEntry);
    } catch {
      // a foreign value in the list is skipped
    }
  }
  return entries;
}

export async function openRedisFeedbackStore(options: RedisFeedbackStoreOptions): Promise<FeedbackStore> {
  if (!Number.isInteger(options.capacity) || options.capacity < 1) {
    throw new RangeError(`feedback capacity must be a positive integer, got ${options.capacity}`);
  }
  const { url, capacity } = options;
  const key = options.key ?? DEFAULT_FEEDBACK_REDIS_KEY;
  const where = redactQueueUrl(url);
  const timeoutMs = options.connectTimeoutMs ?? DEFAULT_FEEDBACK_CONNECT_TIMEOUT_MS;
  try {
    await assertQueueReachable({
      queueUrl: url,
      timeoutMs,
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    });
  } catch (error) {
    if (error instanceof AppError && error.code === "dependency_unavailable") {
      throw new AppError(
        "dependency_unavailable",
        `cannot reach the feedback store's Redis at ${where} within ${timeoutMs} ms: start Redis or fix --feedback-store (${FEEDBACK_STORE_VARIABLE}); leave it unset to keep the feedback in the local file (--feedback-file)`,
        { cause: error },
      );
    }
    throw error;
  }
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    // A call while Redis is away fails at once (503) instead of waiting; reconnects go on behind.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2000),
  });
  // Without a listener ioredis prints every connection error with its stack.
  client.on("error", () => {});
  try {
    await client.connect();
  } catch (error) {
    client.disconnect();
    throw new AppError(
      "dependency_unavailable",
      `cannot connect to the feedback store's Redis at ${where}: start Redis or fix --feedback-store (${FEEDBACK_STORE_VARIABLE})`,
      { cause: error },
    );
  }

  const unavailable = (error: unknown) =>
    new AppError(
      "dependency_unavailable",
      `the feedback store's Redis at ${where} is unavailable (${error instanceof Error ? error.message : String(error)}); try again later`,
      { cause: error },
    );
  const call = async <T>(operation: () => Promise<T>): Promise<T> => {
    try {
      return await operation();
    } catch (error) {
      throw unavailable(error);
    }
  };
  const all = () => call(async () => parseEntries(await client.lrange(key, 0, capacity - 1)));

  return {
    async add(entry) {
      await call(() =>
        client
          .multi()
          .lpush(key, JSON.stringify(entry))
          .ltrim(key, 0, capacity - 1)
          .exec(),
      );
    },
    async list(listOptions = {}) {
      const entries = await all();
      const selected =
        listOptions.rating === undefined ? entries : entries.filter((entry) => entry.rating === listOptions.rating);
      return selected.slice(0, listOptions.limit ?? selected.length);
    },
    async forTrace(traceId) {
      return (await all()).filter((entry) => entry.traceId === traceId);
    },
    async [Symbol.asyncDispose]() {
      await client.quit().catch(() => client.disconnect());
    },
  };
}
