/**
 * Progress display for long jobs (ingestion, downloads, evaluation). On a TTY: one line redrawn in
 * place with a bar, counters, a rate and an ETA, at most every `redrawMs`. Elsewhere (CI, logs,
 * pipes): a plain line every `intervalMs`. Always on a stream of its own choosing (stderr by
 * default) so stdout stays free for machine-readable output.
 *
 *   const progress = createProgress({ label: "ingest", unit: "documents", rateOf: "chunks" });
 *   progress.update({ completed: 12, total: 76, counters: { chunks: 80 } });
 *   progress.finish();
 */

export type ProgressStream = { write(text: string): unknown; isTTY?: boolean; columns?: number };

export type ProgressOptions = {
  label: string;
  /** Total work in `unit`s, when known (enables the bar and the ETA). */
  total?: number;
  /** Name of what `completed` counts, e.g. "documents". Default "items". */
  unit?: string;
  /** Which counter the per-second rate is shown for; default the completed units. */
  rateOf?: string;
  stream?: ProgressStream;
  /** Default: the stream's isTTY. */
  isTTY?: boolean;
  /** Plain mode: seconds between lines, in ms. Default 2000. */
  intervalMs?: number;
  /** TTY mode: minimum time between redraws, in ms. Default 100. */
  redrawMs?: number;
  /** Clock, for tests. */
  now?: () => number;
};

export type ProgressUpdate = {
  completed: number;
  total?: number;
  /** Extra counters shown after the completed units, e.g. { chunks: 120 }. */
  counters?: Record<string, number>;
};

export type Progress = {
  update(update: ProgressUpdate): void;
  /** Draws the final state and ends the line (TTY) or prints a last line (plain). */
  finish(message?: string): void;
};

export function createProgress(options: ProgressOptions): Progress {
  const stream = options.stream ?? process.stderr;
  const isTTY = options.isTTY ?? stream.isTTY === true;
  const now = options.now ?? (() => performance.now());
  const unit = options.unit ?? "items";
  const intervalMs = options.intervalMs ?? 2000;
  const redrawMs = options.redrawMs ?? 100;
  const started = now();
  let state: ProgressUpdate = { completed: 0, ...(options.total === undefined ? {} : { total: options.total }) };
  let lastDrawn = Number.NEGATIVE_INFINITY;
  let finished = false;
  let dirty = false;

  function line(): string {
    const elapsedSeconds = Math.max((now() - started) / 1000, 1e-9);
    const total = state.total;
    const parts: string[] = [];
    const done =
      total === undefined
        ? `${formatCount(state.completed)} ${unit}`
        : `${formatCount(state.completed)}/${formatCount(total)} ${unit}`;
    parts.push(done);
    for (const [name, value] of Object.entries(state.counters ?? {})) parts.push(`${formatCount(value)} ${name}`);
    const rateName = options.rateOf ?? unit;
    const rateValue = options.rateOf === undefined ? state.completed : (state.counters?.[options.rateOf] ?? 0);
    parts.push(`${formatCount(Math.round(rateValue / elapsedSeconds))} ${rateName}/s`);
    if (total !== undefined && total > 0 && state.completed > 0 && state.completed < total) {
      const remaining = ((total - state.completed) * elapsedSeconds) / state.completed;
      parts.push(`ETA ${formatDuration(remaining)}`);
    }
    parts.push(`${formatDuration(elapsedSeconds)} elapsed`);
    const text = parts.join(" | ");
    if (!isTTY || total === undefined || total <= 0) return `${options.label}: ${text}`;
    const fraction = Math.min(1, state.completed / total);
    const width = 24;
    const filled = Math.round(fraction * width);
    const bar = `[${"#".repeat(filled)}${"-".repeat(width - filled)}] ${String(Math.floor(fraction * 100)).padStart(3)}%`;
    return `${options.label} ${bar} ${text}`;
  }

  function draw(force: boolean): void {
    const time = now();
    if (!force && time - lastDrawn < (isTTY ? redrawMs : intervalMs)) return;
    lastDrawn = time;
    dirty = false;
    if (isTTY) {
      const columns = stream.columns ?? 120;
      const text = line();
      stream.write(`\r${text.length >= columns ? text.slice(0, columns - 1) : text}\u001b[K`);
    } else {
      stream.write(`${line()}\n`);
    }
  }

  // Plain mode prints its first line after one interval, not at once: short jobs stay quiet.
  if (!isTTY) lastDrawn = started;

  return {
    update(update: ProgressUpdate): void {
      if (finished) return;
      state = { ...state, ...update };
      dirty = true;
      draw(false);
    },
    finish(message?: string): void {
      if (finished) return;
      finished = true;
      if (isTTY) {
        draw(true);
        stream.write("\n");
      } else if (dirty && now() - started >= intervalMs) {
        draw(true);
      }
      if (message !== undefined) stream.write(`${message}\n`);
    },
  };
}

export function formatCount(value: number): string {
  return Math.round(value).toLocaleString("en-US");
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return "?";
  if (seconds < 10) return `${seconds.toFixed(1)}s`;
  if (seconds < 60) return `${Math.round(seconds)}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m${String(Math.round(seconds % 60)).padStart(2, "0")}s`;
  return `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, "0")}m`;
}
