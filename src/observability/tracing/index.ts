export {
  applyPromptCapture,
  CONTENT_ATTRIBUTES,
  DEFAULT_PROMPT_CAPTURE,
  PROMPT_CAPTURE_MODES,
  type PromptCapture,
  redactText,
} from "./content-policy.js";
export { GEN_AI_SYSTEM, type GenAiView, genAiView } from "./gen-ai.js";
// The OTLP exporter (./otlp-sink.ts) loads the OpenTelemetry SDK: import it from there, only when configured.
export type { OtlpSink, OtlpSinkOptions } from "./otlp-sink.js";
export {
  DEFAULT_TRACE_FILE_MAX_BYTES,
  DEFAULT_TRACE_LOG_CAPACITY,
  openTraceLog,
  type TraceLog,
  type TraceLogOptions,
} from "./trace-log.js";
export { createTracer, describeError, newSpanId, newTraceId, noopTrace, type TracerOptions } from "./tracer.js";
export type * from "./types.js";
