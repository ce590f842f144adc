/** The process runtime: who owns the resources a command builds, and how it shuts down. */

export { type FatalErrorOptions, handleFatalErrors } from "./fatal-errors.js";
export {
  acquire,
  createResourceStack,
  type Releasable,
  type ResourceStack,
  releaseOf,
  withResources,
} from "./resource-stack.js";
export { FATAL_SHUTDOWN_MARGIN_MS, handleServerStop, type ServerStopOptions } from "./server-stop.js";
export {
  FORCED_EXIT_CODE,
  handleShutdownSignals,
  SHUTDOWN_SIGNALS,
  type ShutdownSignalOptions,
} from "./shutdown-signals.js";
