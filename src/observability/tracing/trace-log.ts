/**
 * The bounded local trace log: the last `capacity` traces in memory (a ring buffer), and
 * optionally appended to a JSON Lines file that is rotated once it passes `maxFileBytes`
 * (one previous file, `<file>.1`, is kept). On start the in-memory log is refilled from the file.
 */
import { createReadStream, existsSync } from "node:fs";
import { appendFile, mkdir, rename, stat } from "node:fs/promises";
import { dirname } from "node:path";
import { createInterface } from "node:readline";
import type { TraceRecord, TraceSink } from "./types.js";

export type TraceLogOptions = {
  capacity: number;
  file?: string;
  maxFileBytes?: number;
  /** Called when writing the file fails (the trace stays in memory). */
  onError?: (error: unknown) => void;
};

export type TraceLog = TraceSink & {
  /** Newest first. */
  list(limit?: number): TraceRecord[];
  get(id: string): TraceRecord | undefined;
  readonly size: number;
  /** Resolves once every trace recorded so far is in the file. */
  flush(): Promise<void>;
};

export const DEFAULT_TRACE_LOG_CAPACITY = 1000;
export const DEFAULT_TRACE_FILE_MAX_BYTES = 50 * 1024 * 1024;

export async function openTraceLog(options: TraceLogOptions): Promise<TraceLog> {
  if (!Number.isInteger(options.capacity) || options.capacity < 1) {
    throw new RangeError(`trace log capacity must be a positive integer, got ${options.capacity}`);
  }
  const log = createTraceLog(options);
  if (options.file !== undefined && existsSync(options.file)) {
    for (const trace of await readLastTraces(options.file, options.capacity)) log.remember(trace);
  }
  return log;
}

function createTraceLog(options: TraceLogOptions): TraceLog & { remember(trace: TraceRecord): void } {
  const { capacity, file } = options;
  const maxFileBytes = options.maxFileBytes ?? DEFAULT_TRACE_FILE_MAX_BYTES;
  const ring: (TraceRecord | undefined)[] = new Array(capacity);
  const byId = new Map<string, TraceRecord>();
  let next = 0;
  let count = 0;
  let writing: Promise<void> = Promise.resolve();
  let directoryReady = false;

  const remember = (trace: TraceRecord): void => {
    const evicted = ring[next];
    if (evicted !== undefined) byId.delete(evicted.id);
    ring[next] = trace;
    byId.set(trace.id, trace);
    next = (next + 1) % capacity;
    count = Math.min(count + 1, capacity);
  };

  const writeLine = async (line: string): Promise<void> => {
    if (file === undefined) return;
    if (!directoryReady) {
      await mkdir(dirname(file), { recursive: true });
      directoryReady = true;
    }
    const size = existsSync(file) ? (await stat(file)).size : 0;
    if (size > 0 && size + line.length > maxFileBytes) await rename(file, `${file}.1`);
    await appendFile(file, line, "utf8");
  };

  return {
    remember,
    record(trace) {
      remember(trace);
      if (file === undefined) return;
      const line = `${JSON.stringify(trace)}\n`;
      writing = writing.then(() => writeLine(line)).catch((error: unknown) => options.onError?.(error));
    },
    list(limit = capacity) {
      const result: TraceRecord[] = [];
      for (let offset = 1; offset <= count && result.length < limit; offset += 1) {
        const trace = ring[(next - offset + capacity) % capacity];
        if (trace !== undefined) result.push(trace);
      }
      return result;
    },
    get(id) {
      return byId.get(id);
    },
    get size() {
      return count;
    },
    flush() {
      return writing;
    },
    async [Symbol.asyncDispose]() {
      await writing;
    },
  };
}

async function readLastTraces(file: string, capacity: number): Promise<TraceRecord[]> {
  const kept: TraceRecord[] = [];
  const lines = createInterface({ input: createReadStream(file, "utf8"), crlfDelay: Number.POSITIVE_INFINITY });
  for await (const line of lines) {
    if (line.trim() === "") continue;
    try {
      const trace = JSON.parse(line) as TraceRecord;
      if (typeof trace.id !== "string" || !Array.isArray(trace.spans)) continue;
      kept.push(trace);
      if (kept.length > capacity) kept.shift();
    } catch {
      // A torn last line (process killed mid-write) is skipped; the rest of the log is still good.
    }
  }
  return kept;
}
