/** A ready-made `onProgress` that draws a download bar (TTY) or periodic lines on stderr. */

import { createProgress, type Progress, type ProgressStream } from "../observability/progress.js";
import type { DownloadProgress } from "./download.js";

const MEGABYTE = 1024 * 1024;

export function createDownloadProgressReporter(
  options: { label?: string; stream?: ProgressStream } = {},
): (progress: DownloadProgress) => void {
  let progress: Progress | undefined;
  return (update) => {
    progress ??= createProgress({
      label: options.label ?? `download ${update.url}`,
      unit: "MB",
      ...(update.totalBytes === undefined ? {} : { total: Math.ceil(update.totalBytes / MEGABYTE) }),
      ...(options.stream === undefined ? {} : { stream: options.stream }),
    });
    progress.update({
      completed: Math.floor(update.downloadedBytes / MEGABYTE),
      ...(update.totalBytes === undefined ? {} : { total: Math.ceil(update.totalBytes / MEGABYTE) }),
    });
    if (update.done) {
      progress.finish(
        `downloaded ${(update.downloadedBytes / MEGABYTE).toFixed(1)} MB at ${(update.bytesPerSecond / MEGABYTE).toFixed(1)} MB/s to ${update.destination}`,
      );
    }
  };
}
