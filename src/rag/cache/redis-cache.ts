/**
 * The AnswerCache on Redis (`--cache redis://host:port[/db]`), for replicas that share answers.
 * Keys, under a prefix:
 *   <prefix>:e:<id>          the entry as JSON, with a TTL (PX)
 *   <prefix>:v:<partition>   the partition's index: a hash id → unit vector (float32 bytes); its own
 *                            TTL is pushed back on every store, so an idle partition disappears
 *   <prefix>:all             a sorted set "<partition> <id>" by creation time (ms × 1000 + a
 *                            per-replica sequence, so entries of one millisecond keep their order): the size bound
 *                            (oldest first) and the sweep of expired ids out of the indexes
 *   <prefix>:l:<partition>   the partition's change log: "+<id>" / "-<id>" per change of its index
 *   <prefix>:r:<partition>   the log's epoch, renewed when a writer resets a log grown long
 * Each replica mirrors the partitions it looks up in memory (./redis-mirror.ts): a lookup reads the
 * epoch and the log's length (one round trip), applies the log items it has not seen yet (the new
 * vectors with HMGET), re-reads the whole partition only for a new epoch, scans the mirror, then
 * reads the best entry; an id whose entry expired is dropped from the index and the next best is
 * tried.
 *
 * Redis down never fails a request: calls fail at once (no offline queue, no retries, a command
 * deadline), the caller counts the error and answers without the cache, and the client reconnects
 * in the background. One line is logged when Redis goes away and one when it is back.
 */
import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { assertQueueReachable, redactQueueUrl } from "../../queue/reachability.js";
import type { AnswerCache, CachedAnswer, CacheHit } from "./port.js";
import { PartitionMirror } from "./redis-mirror.js";

export const DEFAULT_ANSWER_CACHE_REDIS_PREFIX = "llm-twin:answer-cache";

export type RedisAnswerCacheOptions = {
  /** redis:// or rediss:// URL (optionally /db). */
  url: string;
  maxEntries: number;
  ttlMs: number;
  /** Connection and per-command deadline. */
  timeoutMs: number;
  prefix?: string;
  /** One line per change of state (Redis unreachable / back). */
  log?: (message: string) => void;
};

const MAX_TRIES = 3;

function toBytes(vector: Float32Array): Buffer {
  return Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength);
}

/**
 * Opens the cache. Redis down at start is not an error: one line is logged, the cache answers
 * every call with an error (the service goes on without it) until Redis is reachable.
 */
export async function openRedisAnswerCache(options: RedisAnswerCacheOptions): Promise<AnswerCache> {
  const prefix = options.prefix ?? DEFAULT_ANSWER_CACHE_REDIS_PREFIX;
  const where = redactQueueUrl(options.url);
  const log = options.log ?? (() => {});
  let down = false;
  let closed = false;
  const wentDown = (reason: string) => {
    if (down || closed) return;
    down = true;
    log(
      `answer cache: Redis at ${where} is unreachable (${reason}); answering without the cache until it is back (--cache, LLM_TWIN_CACHE)`,
    );
  };
  let reachable = true;
  try {
    await assertQueueReachable({ queueUrl: options.url, timeoutMs: options.timeoutMs });
  } catch (error) {
    reachable = false;
    wentDown(error instanceof Error ? (error.message.match(/\(([^)]*)\)/)?.[1] ?? error.message) : String(error));
  }
  const client = new Redis(options.url, {
    lazyConnect: true,
    connectTimeout: options.timeoutMs,
    commandTimeout: options.timeoutMs,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2000),
  });
  client.on("error", (error: Error) => wentDown(error.message.split("\n")[0] ?? "error"));
  client.on("close", () => wentDown("connection closed"));
  client.on("ready", () => {
    if (!down) return;
    down = false;
    log(`answer cache: Redis at ${where} is back; caching again`);
  });
  // With Redis down at start, not awaited: the client keeps reconnecting in the background.
  const connecting = client.connect().catch(() => {});
  if (reachable) await connecting;

  const entryKey = (id: string) => `${prefix}:e:${id}`;
  const indexKey = (partition: string) => `${prefix}:v:${partition}`;
  const logKey = (partition: string) => `${prefix}:l:${partition}`;
  const epochKey = (partition: string) => `${prefix}:r:${partition}`;
  const allKey = `${prefix}:all`;
  const mirrors = new Map<string, PartitionMirror>();
  /** One catch-up per partition at a time: concurrent lookups share it. */
  const syncing = new Map<string, Promise<PartitionMirror>>();
  /** A log longer than this is reset (with a new epoch) by the writer that finds it so. */
  const maxLogLength = options.maxEntries * 4 + 64;
  let sequence = 0;
  /** Mirrors kept per replica (least recently used dropped beyond). */
  const MAX_MIRRORS = 64;
  const member = (partition: string, id: string) => `${partition} ${id}`;

  /** Removes index members (and their entries) listed as "<partition> <id>". */
  const dropMembers = async (members: readonly string[]) => {
    if (members.length === 0) return;
    const batch = client.multi();
    for (const item of members) {
      const [partition, id] = item.split(" ");
      if (partition === undefined || id === undefined) continue;
      batch.hdel(indexKey(partition), id).del(entryKey(id)).rpush(logKey(partition), `-${id}`);
    }
    batch.zrem(allKey, ...members);
    await batch.exec();
  };

  /** Reads the whole partition, its epoch and its log's length in one transaction. */
  const readPartition = async (partition: string, dimensions: number): Promise<PartitionMirror> => {
    const [epoch, vectors, length] = (await client
      .multi()
      .get(epochKey(partition))
      .hgetallBuffer(indexKey(partition))
      .llen(logKey(partition))
      .exec()) as [[Error | null, string | null], [Error | null, Record<string, Buffer>], [Error | null, number]];
    const mirror = new PartitionMirror(epoch[1] ?? "0", Number(length[1]), dimensions);
    for (const [id, bytes] of Object.entries(vectors[1] ?? {})) mirror.add(id, bytes);
    return mirror;
  };

  /** Brings the partition's mirror up to date: the log items it has not seen, or a full read. */
  const catchUp = async (partition: string, dimensions: number): Promise<PartitionMirror> => {
    const [epochResult, lengthResult] = (await client
      .multi()
      .get(epochKey(partition))
      .llen(logKey(partition))
      .exec()) as [[Error | null, string | null], [Error | null, number]];
    const epoch = epochResult[1] ?? "0";
    const length = Number(lengthResult[1]);
    const mirror = mirrors.get(partition);
    if (mirror === undefined || mirror.epoch !== epoch || mirror.dimensions !== dimensions || length < mirror.applied) {
      return readPartition(partition, dimensions);
    }
    if (length === mirror.applied) return mirror;
    const [itemsResult, epochAgain] = (await client
      .multi()
      .lrange(logKey(partition), mirror.applied, length - 1)
      .get(epochKey(partition))
      .exec()) as [[Error | null, string[]], [Error | null, string | null]];
    const items = itemsResult[1] ?? [];
    // A reset between the two reads: these items belong to the new log.
    if ((epochAgain[1] ?? "0") !== epoch || items.length !== length - mirror.applied) {
      return readPartition(partition, dimensions);
    }
    const added = [...new Set(items.filter((item) => item.startsWith("+")).map((item) => item.slice(1)))];
    const vectors = added.length === 0 ? [] : await client.hmgetBuffer(indexKey(partition), ...added);
    const vectorOf = new Map(added.map((id, index) => [id, vectors[index] ?? null]));
    for (const item of items) {
      const id = item.slice(1);
      if (item.startsWith("-")) mirror.remove(id);
      else {
        const bytes = vectorOf.get(id);
        if (bytes !== null && bytes !== undefined) mirror.add(id, bytes);
      }
    }
    mirror.applied = length;
    return mirror;
  };

  const mirrorOf = async (partition: string, dimensions: number): Promise<PartitionMirror> => {
    let pending = syncing.get(partition);
    if (pending === undefined) {
      pending = catchUp(partition, dimensions).finally(() => syncing.delete(partition));
      syncing.set(partition, pending);
    }
    const mirror = await pending;
    mirrors.delete(partition);
    mirrors.set(partition, mirror);
    if (mirrors.size > MAX_MIRRORS) mirrors.delete(mirrors.keys().next().value as string);
    return mirror;
  };

  const cache: AnswerCache = {
    kind: "redis",
    async lookup(partition, vector, minSimilarity) {
      const mirror = await mirrorOf(partition, vector.length);
      const candidates = mirror.matches(vector, minSimilarity);
      for (const candidate of candidates.slice(0, MAX_TRIES)) {
        const text = await client.get(entryKey(candidate.id));
        if (text === null) {
          await dropMembers([member(partition, candidate.id)]);
          continue;
        }
        const hit: CacheHit = { entry: JSON.parse(text) as CachedAnswer, similarity: Math.min(1, candidate.score) };
        return hit;
      }
      return undefined;
    },
    async store(partition, vector, entry) {
      const id = randomUUID();
      const time = Date.now();
      const written = await client
        .multi()
        .set(entryKey(id), JSON.stringify(entry), "PX", options.ttlMs)
        .hset(indexKey(partition), id, toBytes(vector))
        .pexpire(indexKey(partition), options.ttlMs)
        .zadd(allKey, time * 1000 + (sequence++ % 1000), member(partition, id))
        .rpush(logKey(partition), `+${id}`)
        .pexpire(logKey(partition), options.ttlMs)
        .pexpire(epochKey(partition), options.ttlMs)
        .exec();
      const logLength = Number(written?.[4]?.[1] ?? 0); // the RPUSH reply
      if (logLength > maxLogLength) {
        await client.multi().del(logKey(partition)).set(epochKey(partition), randomUUID(), "PX", options.ttlMs).exec();
      }
      const expired = await client.zrangebyscore(allKey, "-inf", (time - options.ttlMs) * 1000);
      const count = await client.zcard(allKey);
      const over =
        count > options.maxEntries ? await client.zrange(allKey, "0", String(count - options.maxEntries - 1)) : [];
      await dropMembers([...new Set([...expired, ...over])]);
    },
    async size() {
      const time = Date.now();
      await client.zremrangebyscore(allKey, "-inf", (time - options.ttlMs) * 1000);
      return client.zcard(allKey);
    },
    async [Symbol.asyncDispose]() {
      closed = true;
      mirrors.clear();
      client.disconnect();
    },
  };
  return cache;
}
