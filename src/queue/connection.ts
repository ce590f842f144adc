/** BullMQ connection options from a redis:// URL (workers need maxRetriesPerRequest: null). */
import type { ConnectionOptions } from "bullmq";
import { DEFAULT_QUEUE_CONNECT_TIMEOUT_MS, validateQueueUrl } from "./config.js";

export type QueueConnectionOptions = {
  /** Deadline of each connection attempt. Default DEFAULT_QUEUE_CONNECT_TIMEOUT_MS. */
  connectTimeoutMs?: number;
  /**
   * Short-lived clients (enqueue, status, dead letters) give up on a command after a few
   * reconnects instead of waiting for Redis forever; a worker keeps reconnecting (BullMQ requires
   * it for its blocking connection).
   */
  role?: "client" | "worker";
};

/** Reconnects a short-lived client's command may wait for before it fails. */
const CLIENT_RETRIES_PER_REQUEST = 2;

export function queueConnection(queueUrl: string, options: QueueConnectionOptions = {}): ConnectionOptions {
  return {
    url: validateQueueUrl(queueUrl),
    connectTimeout: options.connectTimeoutMs ?? DEFAULT_QUEUE_CONNECT_TIMEOUT_MS,
    maxRetriesPerRequest: options.role === "client" ? CLIENT_RETRIES_PER_REQUEST : null,
    enableOfflineQueue: true,
  };
}
