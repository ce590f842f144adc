/**
 * What a server does with an error nothing handled (an unhandled rejection or an uncaught
 * exception): one line on stderr, then the graceful shutdown, then exit 1 so a supervisor restarts
 * it. Not "log and keep serving": the promise whose failure went unhandled belonged to some piece
 * of work (a request's decode, a batch) that now never finishes, holding its slot; a process that
 * goes on can leak its capacity one hung request at a time. The shutdown is bounded: beyond the
 * deadline, or on a second such error, the process exits at once.
 */

export type FatalErrorOptions = {
  /** Prefix of the log line, e.g. "llm-twin serve-llm". */
  name: string;
  /** The graceful part (the same as on SIGTERM). */
  shutdown: (reason: string) => Promise<void> | void;
  /** Beyond this the process exits without waiting for the shutdown. */
  deadlineMs: number;
  log?: (message: string) => void;
  /** Injected by tests; default `process`. */
  emitter?: Pick<NodeJS.Process, "on" | "off">;
  exit?: (code: number) => void;
};

const FATAL_EVENTS = ["unhandledRejection", "uncaughtException"] as const;

/** Installs the handlers; the returned function removes them. */
export function handleFatalErrors(options: FatalErrorOptions): () => void {
  const emitter = options.emitter ?? process;
  const exit = options.exit ?? ((code: number) => process.exit(code));
  const log = options.log ?? ((message: string) => process.stderr.write(`${options.name}: ${message}\n`));
  let failing = false;

  const onFatal = (what: string) => (error: unknown) => {
    const line = `internal error (${what}): ${oneLine(error)}`;
    if (failing) {
      log(`${line}; exiting now`);
      exit(1);
      return;
    }
    failing = true;
    log(`${line}; shutting down (at most ${Math.ceil(options.deadlineMs / 1000)} s) and exiting with 1`);
    const deadline = setTimeout(() => exit(1), options.deadlineMs);
    deadline.unref();
    Promise.resolve()
      .then(() => options.shutdown(what))
      .catch((shutdownError: unknown) => log(`shutdown failed: ${oneLine(shutdownError)}`))
      .finally(() => {
        clearTimeout(deadline);
        exit(1);
      });
  };
  const handlers = {
    unhandledRejection: onFatal("unhandled rejection"),
    uncaughtException: onFatal("uncaught exception"),
  };
  for (const event of FATAL_EVENTS) emitter.on(event, handlers[event]);
  return () => {
    for (const event of FATAL_EVENTS) emitter.off(event, handlers[event]);
  };
}

function oneLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/\s*\n\s*/g, " ");
}
