/** BullMQ connection options from a redis:// URL (workers need maxRetriesPerRequest: null). */
import type { ConnectionOptions } from "bullmq";
import { validateQueueUrl } from "./config.js";

export function queueConnection(queueUrl: string): ConnectionOptions {
  return { url: validateQueueUrl(queueUrl), maxRetriesPerRequest: null, enableOfflineQueue: true };
}
