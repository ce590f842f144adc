/**
 * Users' feedback on answers (`POST /feedback`), kept with a snapshot of the answer's trace (full
 * prompt, sources, answer, as the trace log had it) so a disliked answer can be studied after the
 * trace has left the ring buffer. Durable: a JSON Lines file, appended to, reloaded at start, and
 * compacted to the newest `capacity` entries once it holds twice that many (retention). Without a
 * file it lives in memory only (tests). The same port has a Redis adapter (redis-store.ts) for
 * replicas that must share the feedback.
 */
import { existsSync } from "node:fs";
import { appendFile, mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import type { TraceRecord } from "../../observability/tracing/index.js";

export type FeedbackRating = "up" | "down";
export const FEEDBACK_RATINGS: readonly FeedbackRating[] = ["up", "down"];

export type FeedbackEntry = {
  traceId: string;
  rating: FeedbackRating;
  comment?: string;
  /** ISO 8601. */
  createdAt: string;
  /** The trace as it was when the feedback arrived. */
  trace: TraceRecord;
};

export type FeedbackStore = {
  add(entry: FeedbackEntry): Promise<void>;
  /** Newest first. */
  list(options?: { rating?: FeedbackRating; limit?: number }): Promise<FeedbackEntry[]>;
  /** Newest first. */
  forTrace(traceId: string): Promise<FeedbackEntry[]>;
  [Symbol.asyncDispose](): Promise<void>;
};

export type FeedbackStoreOptions = {
  /** JSON Lines file; none: memory only. */
  file?: string;
  /** Entries kept (the oldest go first). */
  capacity: number;
};

export const DEFAULT_FEEDBACK_FILE = "./.llm-twin/feedback.jsonl";
export const DEFAULT_FEEDBACK_CAPACITY = 10_000;

function isEntry(value: unknown): value is FeedbackEntry {
  const entry = value as FeedbackEntry;
  return (
    typeof entry === "object" &&
    entry !== null &&
    typeof entry.traceId === "string" &&
    (entry.rating === "up" || entry.rating === "down") &&
    typeof entry.createdAt === "string" &&
    typeof entry.trace === "object"
  );
}

export async function openFeedbackStore(options: FeedbackStoreOptions): Promise<FeedbackStore> {
  if (!Number.isInteger(options.capacity) || options.capacity < 1) {
    throw new RangeError(`feedback capacity must be a positive integer, got ${options.capacity}`);
  }
  const { file, capacity } = options;
  let entries: FeedbackEntry[] = [];
  let linesInFile = 0;
  if (file !== undefined && existsSync(file)) {
    for (const line of (await readFile(file, "utf8")).split("\n")) {
      if (line.trim() === "") continue;
      linesInFile++;
      try {
        const parsed: unknown = JSON.parse(line);
        if (isEntry(parsed)) entries.push(parsed);
      } catch {
        // a torn last line (crash while appending) is skipped
      }
    }
    entries = entries.slice(-capacity);
  }
  let writing: Promise<void> = Promise.resolve();
  let directoryReady = false;

  const compact = async (target: string) => {
    const temporary = `${target}.tmp`;
    await writeFile(temporary, entries.map((entry) => `${JSON.stringify(entry)}\n`).join(""));
    await rename(temporary, target);
    linesInFile = entries.length;
  };

  return {
    async add(entry) {
      entries.push(entry);
      if (entries.length > capacity) entries = entries.slice(-capacity);
      if (file === undefined) return;
      const write = writing.then(async () => {
        if (!directoryReady) {
          await mkdir(dirname(file), { recursive: true });
          directoryReady = true;
        }
        await appendFile(file, `${JSON.stringify(entry)}\n`);
        linesInFile++;
        if (linesInFile >= capacity * 2) await compact(file);
      });
      writing = write.catch(() => {});
      await write;
    },
    async list(listOptions = {}) {
      const selected =
        listOptions.rating === undefined ? entries : entries.filter((entry) => entry.rating === listOptions.rating);
      return selected.slice(-(listOptions.limit ?? selected.length)).reverse();
    },
    async forTrace(traceId) {
      return entries.filter((entry) => entry.traceId === traceId).reverse();
    },
    async [Symbol.asyncDispose]() {
      await writing;
    },
  };
}
