export { createOtlpSink, type OtlpSinkOptions, otlpTracesUrl } from "./otlp-sink.js";
export {
  DEFAULT_TRACE_FILE_MAX_BYTES,
  DEFAULT_TRACE_LOG_CAPACITY,
  openTraceLog,
  type TraceLog,
  type TraceLogOptions,
} from "./trace-log.js";
export { createTracer, describeError, newSpanId, newTraceId, noopTrace } from "./tracer.js";
export type * from "./types.js";
