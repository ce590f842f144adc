/**
 * The AnswerCache on Redis (`--cache redis://host:port[/db]`), for replicas that share answers.
 * Keys, under a prefix:
 *   <prefix>:e:<id>          the entry as JSON, with a TTL (PX)
 *   <prefix>:v:<partition>   the partition's index: a hash id → unit vector (float32 bytes); its own
 *                            TTL is pushed back on every store, so an idle partition disappears
 *   <prefix>:all             a sorted set "<partition> <id>" by creation time (ms × 1000 + a
 *                            per-replica sequence, so entries of one millisecond keep their order): the size bound
 *                            (oldest first) and the sweep of expired ids out of the indexes
 *   <prefix>:r:<partition>   the partition's revision, incremented on every change of its index
 * Each replica mirrors the partitions it looks up in memory (one matrix, the WebAssembly kernel):
 * a lookup reads the revision, re-reads the vectors (HGETALL) only when it moved, scans the mirror,
 * then reads the best entry; an id whose entry expired is dropped from the index and the next best
 * is tried.
 *
 * Redis down never fails a request: calls fail at once (no offline queue, no retries, a command
 * deadline), the caller counts the error and answers without the cache, and the client reconnects
 * in the background. One line is logged when Redis goes away and one when it is back.
 */
import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { assertQueueReachable, redactQueueUrl } from "../../queue/reachability.js";
import { createDotMatrix, type DotMatrix } from "../../vector-store/lancedb/dot-kernel.js";
import type { AnswerCache, CachedAnswer, CacheHit } from "./port.js";

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

/** A replica's copy of one partition's vectors, valid while the partition's revision is `revision`. */
type Mirror = { revision: string; ids: string[]; matrix: DotMatrix | undefined };

function mirrorOf(revision: string, vectors: Record<string, Buffer>, dimensions: number): Mirror {
  const ids = Object.keys(vectors).filter((id) => vectors[id]?.byteLength === dimensions * 4);
  if (ids.length === 0) return { revision, ids, matrix: undefined };
  const matrix = createDotMatrix(dimensions, ids.length);
  ids.forEach((id, row) => {
    const bytes = vectors[id] as Buffer;
    // Copied out: a Buffer from ioredis may not be 4-byte aligned for a Float32Array view.
    const aligned = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
    matrix.rows.set(aligned, row * dimensions);
  });
  return { revision, ids, matrix };
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
  const revisionKey = (partition: string) => `${prefix}:r:${partition}`;
  const allKey = `${prefix}:all`;
  const mirrors = new Map<string, Mirror>();
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
      batch
        .hdel(indexKey(partition), id)
        .del(entryKey(id))
        .incr(revisionKey(partition))
        .pexpire(revisionKey(partition), options.ttlMs);
    }
    batch.zrem(allKey, ...members);
    await batch.exec();
  };

  const cache: AnswerCache = {
    kind: "redis",
    async lookup(partition, vector, minSimilarity) {
      const revision = (await client.get(revisionKey(partition))) ?? "0";
      let mirror = mirrors.get(partition);
      if (mirror?.revision !== revision || mirror.matrix?.dimensions !== vector.length) {
        mirror = mirrorOf(revision, await client.hgetallBuffer(indexKey(partition)), vector.length);
      }
      mirrors.delete(partition);
      mirrors.set(partition, mirror);
      if (mirrors.size > MAX_MIRRORS) mirrors.delete(mirrors.keys().next().value as string);
      const candidates: { id: string; score: number }[] = [];
      const scores = mirror.matrix?.scores(vector, mirror.ids.length) ?? new Float32Array(0);
      scores.forEach((score, row) => {
        if (score >= minSimilarity) candidates.push({ id: mirror.ids[row] as string, score });
      });
      candidates.sort((left, right) => right.score - left.score);
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
      await client
        .multi()
        .set(entryKey(id), JSON.stringify(entry), "PX", options.ttlMs)
        .hset(indexKey(partition), id, toBytes(vector))
        .pexpire(indexKey(partition), options.ttlMs)
        .zadd(allKey, time * 1000 + (sequence++ % 1000), member(partition, id))
        .incr(revisionKey(partition))
        .pexpire(revisionKey(partition), options.ttlMs)
        .exec();
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
    async close() {
      closed = true;
      mirrors.clear();
      client.disconnect();
    },
    [Symbol.asyncDispose]() {
      return cache.close();
    },
  };
  return cache;
}
