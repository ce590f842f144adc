/**
 * Exports finished traces over OTLP/HTTP (JSON) with the OpenTelemetry SDK: the trace becomes a
 * root span with one child span per step, keeping our trace and span ids so the local trace log
 * and the collector agree. The generation step follows the GenAI semantic conventions (gen-ai.ts).
 */
import {
  type Attributes as OtelAttributes,
  trace as otelTrace,
  ROOT_CONTEXT,
  SpanStatusCode,
  TraceFlags,
} from "@opentelemetry/api";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { BasicTracerProvider, BatchSpanProcessor, type IdGenerator } from "@opentelemetry/sdk-trace-base";
import { genAiView } from "./gen-ai.js";
import { newSpanId, newTraceId } from "./tracer.js";
import type { Attributes, TraceRecord, TraceSink } from "./types.js";

export type OtlpSinkOptions = {
  /** Collector base URL (e.g. http://localhost:4318) or the full /v1/traces URL. */
  endpoint: string;
  serviceName: string;
  headers?: Record<string, string>;
  /** Delay between batch exports, in milliseconds. */
  exportDelayMs?: number;
};

export function otlpTracesUrl(endpoint: string): string {
  const trimmed = endpoint.replace(/\/+$/, "");
  return trimmed.endsWith("/v1/traces") ? trimmed : `${trimmed}/v1/traces`;
}

/** Ids handed out in the order our records say (the SDK asks for them synchronously). */
function createPresetIdGenerator(): IdGenerator & { preset(traceId: string, spanId: string): void } {
  let traceId: string | undefined;
  let spanId: string | undefined;
  return {
    preset(nextTraceId, nextSpanId) {
      traceId = nextTraceId;
      spanId = nextSpanId;
    },
    generateTraceId() {
      const value = traceId ?? newTraceId();
      traceId = undefined;
      return value;
    },
    generateSpanId() {
      const value = spanId ?? newSpanId();
      spanId = undefined;
      return value;
    },
  };
}

export function toOtelAttributes(attributes: Attributes): OtelAttributes {
  const result: OtelAttributes = {};
  for (const [key, value] of Object.entries(attributes)) {
    if (value === undefined || value === null) continue;
    if (typeof value === "string" || typeof value === "number" || typeof value === "boolean") {
      result[key] = value;
    } else if (Array.isArray(value) && value.every((item) => typeof item === "string")) {
      result[key] = value as string[];
    } else if (Array.isArray(value) && value.every((item) => typeof item === "number")) {
      result[key] = value as number[];
    } else {
      result[key] = JSON.stringify(value);
    }
  }
  return result;
}

export type OtlpSink = TraceSink & {
  /**
   * Sends something that happened to a trace after it ended (e.g. a user's feedback on the answer)
   * as a span `name` under the trace's root span, carrying one event `name` with `attributes`.
   */
  recordEvent(traceId: string, parentSpanId: string, name: string, attributes: Attributes): void;
};

export function createOtlpSink(options: OtlpSinkOptions): OtlpSink {
  const ids = createPresetIdGenerator();
  const exporter = new OTLPTraceExporter({
    url: otlpTracesUrl(options.endpoint),
    ...(options.headers === undefined ? {} : { headers: options.headers }),
  });
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ "service.name": options.serviceName }),
    idGenerator: ids,
    spanProcessors: [new BatchSpanProcessor(exporter, { scheduledDelayMillis: options.exportDelayMs ?? 1000 })],
  });
  const tracer = provider.getTracer("llm-twin");

  return {
    record(record: TraceRecord) {
      ids.preset(record.id, record.rootSpanId);
      const root = tracer.startSpan(
        record.name,
        { startTime: record.startTime, attributes: toOtelAttributes(record.attributes) },
        ROOT_CONTEXT,
      );
      const parent = otelTrace.setSpan(ROOT_CONTEXT, root);
      for (const span of record.spans) {
        ids.preset(record.id, span.id);
        const genAi = genAiView(record, span);
        const child = tracer.startSpan(
          genAi?.name ?? span.name,
          { startTime: span.startTime, attributes: toOtelAttributes(genAi?.attributes ?? span.attributes) },
          parent,
        );
        for (const event of genAi?.events ?? []) {
          child.addEvent(event.name, toOtelAttributes(event.attributes), span.startTime + span.durationMs);
        }
        if (span.error !== undefined) {
          child.setStatus({ code: SpanStatusCode.ERROR, message: `${span.error.code}: ${span.error.message}` });
        }
        child.end(span.startTime + span.durationMs);
      }
      if (record.error !== undefined) {
        root.setStatus({ code: SpanStatusCode.ERROR, message: `${record.error.code}: ${record.error.message}` });
      }
      root.end(record.startTime + record.durationMs);
    },
    recordEvent(traceId, parentSpanId, name, attributes) {
      const parent = otelTrace.setSpanContext(ROOT_CONTEXT, {
        traceId,
        spanId: parentSpanId,
        traceFlags: TraceFlags.SAMPLED,
      });
      ids.preset(traceId, newSpanId());
      const time = Date.now();
      const span = tracer.startSpan(name, { startTime: time, attributes: toOtelAttributes(attributes) }, parent);
      span.addEvent(name, toOtelAttributes(attributes), time);
      span.end(time);
    },
    async [Symbol.asyncDispose]() {
      await provider.forceFlush();
      await provider.shutdown();
    },
  };
}
