/** Reading the queue's state: dead letters and job counts (for `llm-twin worker --dead-letters|--status`). */
import { Queue } from "bullmq";
import { DEFAULT_QUEUE_NAME, type DeadLetter, deadLetterQueueName, validateQueueName } from "./config.js";
import { queueConnection } from "./connection.js";

export type QueueLocation = { queueUrl: string; queueName?: string };

/** Dead letters, oldest first. */
export async function listDeadLetters(
  location: QueueLocation,
  options: { limit?: number } = {},
): Promise<DeadLetter[]> {
  const queueName = validateQueueName(location.queueName ?? DEFAULT_QUEUE_NAME);
  const queue = new Queue<DeadLetter>(deadLetterQueueName(queueName), {
    connection: queueConnection(location.queueUrl),
  });
  try {
    const limit = options.limit ?? 1000;
    const jobs = await queue.getJobs(["waiting", "delayed", "prioritized"], 0, limit - 1, true);
    return jobs.filter((job) => job !== undefined).map((job) => job.data);
  } finally {
    await queue.close();
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
  const connection = queueConnection(location.queueUrl);
  const queue = new Queue(queueName, { connection });
  const deadLetters = new Queue(deadLetterQueueName(queueName), { connection });
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
  } finally {
    await Promise.allSettled([queue.close(), deadLetters.close()]);
  }
}
