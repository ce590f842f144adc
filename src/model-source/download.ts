/**
 * Resumable download of one file: bytes go to `<destination>.partial`; an interrupted transfer
 * continues from the partial file's size with an HTTP Range request (a server that ignores Range
 * restarts it from zero); the finished file is checked for the GGUF magic and renamed into place
 * atomically, so a file at `destination` is always complete.
 */

import { mkdir, open, rename, rm, stat } from "node:fs/promises";
import { dirname } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { AppError, isAppError } from "../errors/app-error.js";
import { notGgufError, startsWithGgufMagic } from "./gguf-magic.js";

export type DownloadProgress = {
  url: string;
  destination: string;
  downloadedBytes: number;
  /** Undefined when the server does not say. */
  totalBytes: number | undefined;
  /** 0–100, when the total is known. */
  percent: number | undefined;
  /** Average over this call's transfer (resumed bytes excluded). */
  bytesPerSecond: number;
  done: boolean;
};

export type DownloadOptions = {
  headers?: Record<string, string>;
  signal?: AbortSignal;
  onProgress?: (progress: DownloadProgress) => void;
  /** Attempts after the first one when the transfer fails with a retryable error. Default 3. */
  retries?: number;
  /** First back-off delay, doubled at each retry. Default 500 ms. */
  retryDelayMs?: number;
  /** An attempt fails when no byte arrives for this long. Default 30 s. */
  idleTimeoutMs?: number;
  /** Minimum time between progress callbacks. Default 200 ms. */
  progressIntervalMs?: number;
};

export const DOWNLOAD_DEFAULTS = { retries: 3, retryDelayMs: 500, idleTimeoutMs: 30_000, progressIntervalMs: 200 };

async function fileSize(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch {
    return 0;
  }
}

function statusError(url: string, status: number): AppError {
  const details = { url, status };
  if (status === 404 || status === 410) {
    return new AppError("model_not_found", `Model not found at ${url} (HTTP ${status})`, { details });
  }
  if (status === 401 || status === 403) {
    return new AppError(
      "configuration_error",
      `Access to ${url} was refused (HTTP ${status}); for gated Hugging Face models set HF_TOKEN`,
      { details },
    );
  }
  if (status === 429 || status >= 500) {
    return new AppError("upstream_unavailable", `Download of ${url} failed with HTTP ${status}`, { details });
  }
  return new AppError("upstream_error", `Download of ${url} failed with HTTP ${status}`, { details });
}

function parseContentRange(header: string | null): { start: number; total: number | undefined } | undefined {
  const match = header === null ? null : /^bytes\s+(\d+)-\d+\/(\d+|\*)$/i.exec(header.trim());
  if (match === null) return undefined;
  return { start: Number(match[1]), total: match[2] === "*" ? undefined : Number(match[2]) };
}

type AttemptResult = "complete" | "restart";

async function attempt(
  url: string,
  destination: string,
  options: DownloadOptions & typeof DOWNLOAD_DEFAULTS,
  started: { time: number; bytes: number | undefined },
): Promise<AttemptResult> {
  const partial = `${destination}.partial`;
  let offset = await fileSize(partial);
  const idle = new AbortController();
  const signal = options.signal === undefined ? idle.signal : AbortSignal.any([options.signal, idle.signal]);
  let idleTimer = setTimeout(() => idle.abort(), options.idleTimeoutMs);
  const resetIdle = (): void => {
    clearTimeout(idleTimer);
    idleTimer = setTimeout(() => idle.abort(), options.idleTimeoutMs);
  };
  try {
    const headers: Record<string, string> = { ...options.headers };
    if (offset > 0) headers.range = `bytes=${offset}-`;
    let response: Response;
    try {
      response = await fetch(url, { headers, signal, redirect: "follow" });
    } catch (error) {
      throw networkError(url, error, options.signal, idle.signal);
    }
    if (response.status === 416 && offset > 0) {
      await response.body?.cancel();
      const total = /\/(\d+)\s*$/.exec(response.headers.get("content-range") ?? "")?.[1];
      if (total !== undefined && Number(total) === offset) return finish(partial, destination, url);
      await rm(partial, { force: true });
      return "restart";
    }
    if (!response.ok) {
      await response.body?.cancel();
      throw statusError(url, response.status);
    }
    let total: number | undefined;
    if (response.status === 206) {
      const range = parseContentRange(response.headers.get("content-range"));
      if (range === undefined || range.start !== offset) {
        await response.body?.cancel();
        await rm(partial, { force: true });
        return "restart";
      }
      total = range.total;
    } else {
      offset = 0;
      const length = response.headers.get("content-length");
      total = length === null ? undefined : Number(length);
    }
    if (started.bytes === undefined) started.bytes = offset;
    const file = await open(partial, offset === 0 ? "w" : "a");
    let head = Buffer.alloc(0);
    let lastReport = 0;
    const report = (done: boolean): void => {
      const now = performance.now();
      if (!done && now - lastReport < options.progressIntervalMs) return;
      lastReport = now;
      const seconds = Math.max((now - started.time) / 1000, 1e-3);
      options.onProgress?.({
        url,
        destination,
        downloadedBytes: offset,
        totalBytes: total,
        percent: total === undefined || total === 0 ? undefined : Math.min(100, (offset / total) * 100),
        bytesPerSecond: (offset - (started.bytes ?? 0)) / seconds,
        done,
      });
    };
    try {
      if (response.body === null) throw new AppError("upstream_error", `Empty response body from ${url}`);
      for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
        resetIdle();
        if (offset < 4 && head.length < 4) {
          head = Buffer.concat([head, Buffer.from(chunk.subarray(0, 4 - head.length))]);
          if (head.length >= 4 && offset === 0 && !startsWithGgufMagic(head)) throw notGgufError(url, head);
        }
        await file.write(chunk);
        offset += chunk.length;
        report(false);
      }
    } catch (error) {
      if (isAppError(error)) {
        if (error.code === "configuration_error") {
          await file.close();
          await rm(partial, { force: true });
        }
        throw error;
      }
      throw networkError(url, error, options.signal, idle.signal);
    } finally {
      await file.close().catch(() => undefined);
    }
    if (total !== undefined && offset < total) {
      throw new AppError("upstream_unavailable", `Connection to ${url} closed after ${offset} of ${total} bytes`, {
        details: { url },
      });
    }
    report(true);
    return finish(partial, destination, url);
  } finally {
    clearTimeout(idleTimer);
  }
}

async function finish(partial: string, destination: string, url: string): Promise<AttemptResult> {
  const file = await open(partial, "r");
  const head = Buffer.alloc(4);
  const { bytesRead } = await file.read(head, 0, 4, 0);
  await file.close();
  if (!startsWithGgufMagic(head.subarray(0, bytesRead))) {
    await rm(partial, { force: true });
    throw notGgufError(url, head.subarray(0, bytesRead));
  }
  await rename(partial, destination);
  return "complete";
}

function networkError(url: string, error: unknown, callerSignal: AbortSignal | undefined, idle: AbortSignal): AppError {
  if (callerSignal?.aborted === true) {
    return new AppError("aborted", `Download of ${url} was aborted`, { cause: error });
  }
  if (idle.aborted) {
    return new AppError("upstream_unavailable", `Download of ${url} stalled (no data received)`, { cause: error });
  }
  const reason = error instanceof Error ? (error.cause instanceof Error ? error.cause.message : error.message) : "";
  return new AppError("upstream_unavailable", `Cannot download ${url}: ${reason || "network error"}`, {
    cause: error,
    details: { url },
  });
}

/** Downloads `url` to `destination` (resuming a previous partial transfer); returns `destination`. */
export async function downloadFile(url: string, destination: string, options: DownloadOptions = {}): Promise<string> {
  const resolved = { ...DOWNLOAD_DEFAULTS, ...options };
  await mkdir(dirname(destination), { recursive: true });
  const started = { time: performance.now(), bytes: undefined as number | undefined };
  let restarts = 0;
  for (let failures = 0; ; ) {
    try {
      const result = await attempt(url, destination, resolved, started);
      if (result === "complete") return destination;
      restarts += 1;
      if (restarts > 2) throw new AppError("upstream_error", `The server for ${url} keeps rejecting range requests`);
    } catch (error) {
      const retryable = isAppError(error) && error.retryable && error.code !== "aborted";
      if (!retryable || failures >= resolved.retries) throw error;
      const delay = resolved.retryDelayMs * 2 ** failures;
      failures += 1;
      try {
        await sleep(delay, undefined, options.signal === undefined ? {} : { signal: options.signal });
      } catch (abortError) {
        throw new AppError("aborted", `Download of ${url} was aborted`, { cause: abortError });
      }
    }
  }
}
