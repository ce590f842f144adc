/**
 * How a server stops: SIGINT/SIGTERM (./shutdown-signals.ts) and an error nothing handled
 * (./fatal-errors.ts) run the same graceful shutdown. After a fatal error the process exits with 1
 * at the latest a margin beyond the longest the graceful part may take.
 */
import { handleFatalErrors } from "./fatal-errors.js";
import { handleShutdownSignals } from "./shutdown-signals.js";

/** Beyond the graceful part's own bound, for releasing the model and the HTTP server after a fatal error. */
export const FATAL_SHUTDOWN_MARGIN_MS = 5_000;

export type ServerStopOptions = {
  /** Prefix of the log lines, e.g. "llm-twin serve-llm". */
  name: string;
  /** The graceful part: stop taking work, finish what runs, release resources. */
  shutdown: (reason: string) => Promise<void> | void;
  /** The longest the graceful part may take (its own deadline, or the longest request). */
  gracefulMs: number;
  log?: (message: string) => void;
};

/** Installs both handlers; the returned function removes them. */
export function handleServerStop(options: ServerStopOptions): () => void {
  const { name, shutdown, log } = options;
  const stopHandlingSignals = handleShutdownSignals({ name, shutdown, ...(log === undefined ? {} : { log }) });
  const stopHandlingFatalErrors = handleFatalErrors({
    name,
    shutdown,
    deadlineMs: options.gracefulMs + FATAL_SHUTDOWN_MARGIN_MS,
    ...(log === undefined ? {} : { log }),
  });
  return () => {
    stopHandlingSignals();
    stopHandlingFatalErrors();
  };
}
