/** Reading the queue's state: dead letters and job counts (for `llm-twin worker --dead-letters|--status`). */
import { Queue } from "bullmq";
import { DEFAULT_QUEUE_NAME, type DeadLetter, deadLetterQueueName, validateQueueName } from "./config.js";
import { queueConnection } from "./connection.js";
import { assertQueueReachable, guardQueues } from "./reachability.js";

export type QueueLocation = {
  queueUrl: string;
  queueName?: string;
  /** Deadline for reaching Redis. Default 5,000 ms. */
  connectTimeoutMs?: number;
  signal?: AbortSignal;
};

/** Checks that Redis answers, then opens the queues (short-lived clients: commands do not wait forever). */
async function openQueues<T>(location: QueueLocation, names: readonly string[]) {
  const timeout = location.connectTimeoutMs === undefined ? {} : { connectTimeoutMs: location.connectTimeoutMs };
  await assertQueueReachable({
    queueUrl: location.queueUrl,
    ...(location.connectTimeoutMs === undefined ? {} : { timeoutMs: location.connectTimeoutMs }),
    ...(location.signal === undefined ? {} : { signal: location.signal }),
  });
  const connection = queueConnection(location.queueUrl, { role: "client", ...timeout });
  const queues = names.map((name) => new Queue<T>(name, { connection }));
  const guard = guardQueues(queues, { queueUrl: location.queueUrl, signal: location.signal });
  return {
    queues,
    guard,
    close: async () => {
      guard.dispose();
      await Promise.allSettled(queues.map((queue) => queue.close()));
    },
  };
}

/** Dead letters, oldest first. */
export async function listDeadLetters(
  location: QueueLocation,
  options: { limit?: number } = {},
): Promise<DeadLetter[]> {
  const queueName = validateQueueName(location.queueName ?? DEFAULT_QUEUE_NAME);
  const opened = await openQueues<DeadLetter>(location, [deadLetterQueueName(queueName)]);
  const [queue] = opened.queues as [Queue<DeadLetter>];
  try {
    const limit = options.limit ?? 1000;
    const jobs = await queue.getJobs(["waiting", "delayed", "prioritized"], 0, limit - 1, true);
    return jobs.filter((job) => job !== undefined).map((job) => job.data);
  } catch (error) {
    throw opened.guard.translate(error);
  } finally {
    await opened.close();
  }
}

export type QueueStatus = {
  queue: string;
  waiting: number;
  active: number;
  delayed: number;
  completed: number;
  failed: number;
  deadLetters: number;
};

export async function queueStatus(location: QueueLocation): Promise<QueueStatus> {
  const queueName = validateQueueName(location.queueName ?? DEFAULT_QUEUE_NAME);
  const opened = await openQueues(location, [queueName, deadLetterQueueName(queueName)]);
  const [queue, deadLetters] = opened.queues as [Queue, Queue];
  try {
    const counts = await queue.getJobCounts("waiting", "active", "delayed", "completed", "failed", "prioritized");
    const dead = await deadLetters.getJobCounts("waiting", "delayed", "prioritized");
    return {
      queue: queueName,
      waiting: (counts.waiting ?? 0) + (counts.prioritized ?? 0),
      active: counts.active ?? 0,
      delayed: counts.delayed ?? 0,
      completed: counts.completed ?? 0,
      failed: counts.failed ?? 0,
      deadLetters: Object.values(dead).reduce((sum, value) => sum + value, 0),
    };
  } catch (error) {
    throw opened.guard.translate(error);
  } finally {
    await opened.close();
  }
}
