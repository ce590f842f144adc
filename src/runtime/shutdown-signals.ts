/**
 * The one way every long-running command (ingest, worker, serve, serve-llm, serve-rag, eval)
 * answers Ctrl-C and SIGTERM: the first signal starts a graceful shutdown (stop taking work, finish
 * or abort what runs, release resources) bounded by a deadline; a second signal, or the deadline,
 * exits at once.
 */

export type ShutdownSignalOptions = {
  /** Prefix of the log lines, e.g. "llm-twin serve". */
  name: string;
  /** The graceful part: resolves once the command's work is stopped and its resources released. */
  shutdown: (signal: NodeJS.Signals) => Promise<void> | void;
  /**
   * Servers exit (0, or 1 when the shutdown failed) once it resolves; commands that finish by
   * themselves (ingest, eval) return from their action instead. Default true.
   */
  exitWhenDone?: boolean;
  /** Beyond this the process exits with 1. Default: no deadline (a second signal still forces). */
  graceMs?: number;
  log?: (message: string) => void;
  /** Injected by tests; default `process`. */
  emitter?: Pick<NodeJS.Process, "on" | "off">;
  exit?: (code: number) => void;
};

export const SHUTDOWN_SIGNALS: readonly NodeJS.Signals[] = ["SIGINT", "SIGTERM"];

/** Exit status after a forced stop (128 + SIGINT), as shells report an interrupted command. */
export const FORCED_EXIT_CODE = 130;

/** Installs the handlers; the returned function removes them (call it when the command ends). */
export function handleShutdownSignals(options: ShutdownSignalOptions): () => void {
  const emitter = options.emitter ?? process;
  const exit = options.exit ?? ((code: number) => process.exit(code));
  const log = options.log ?? ((message: string) => process.stderr.write(`${options.name}: ${message}\n`));
  const exitWhenDone = options.exitWhenDone ?? true;
  let received: NodeJS.Signals | undefined;
  let deadline: NodeJS.Timeout | undefined;

  const onSignal = (signal: NodeJS.Signals): void => {
    if (received !== undefined) {
      log(`${signal} again: exiting now`);
      exit(FORCED_EXIT_CODE);
      return;
    }
    received = signal;
    const bound = options.graceMs === undefined ? "" : ` (at most ${Math.ceil(options.graceMs / 1000)} s)`;
    log(`received ${signal}, shutting down${bound}; ${signal} again to exit at once`);
    if (options.graceMs !== undefined) {
      deadline = setTimeout(() => {
        log(`shutdown did not finish within ${options.graceMs} ms: exiting`);
        exit(1);
      }, options.graceMs);
      deadline.unref();
    }
    Promise.resolve()
      .then(() => options.shutdown(signal))
      .then(
        () => {
          clearTimeout(deadline);
          if (exitWhenDone) exit(0);
        },
        (error: unknown) => {
          clearTimeout(deadline);
          log(`shutdown failed: ${error instanceof Error ? error.message : String(error)}`);
          exit(1);
        },
      );
  };

  for (const signal of SHUTDOWN_SIGNALS) emitter.on(signal, onSignal);
  return () => {
    clearTimeout(deadline);
    for (const signal of SHUTDOWN_SIGNALS) emitter.off(signal, onSignal);
  };
}
