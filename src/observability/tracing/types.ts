/**
 * Request traces: one trace per request, one span per step, with the attributes that matter to
 * prompt monitoring (queries, author, retrieved ids and scores, prompt size, token counts).
 * Plain records: they go to the local trace log and, when configured, to OTLP.
 */

export type AttributeValue = string | number | boolean | null | readonly (string | number | boolean)[];
export type Attributes = Record<string, unknown>;

export type SpanStatus = "ok" | "error";

export type SpanRecord = {
  /** 16 hex digits. */
  id: string;
  name: string;
  /** Epoch milliseconds (fractional). */
  startTime: number;
  durationMs: number;
  status: SpanStatus;
  attributes: Attributes;
  error?: { code: string; message: string };
};

export type TraceRecord = {
  /** 32 hex digits (usable as an OpenTelemetry trace id). */
  id: string;
  /** 16 hex digits: the root span. */
  rootSpanId: string;
  name: string;
  startTime: number;
  durationMs: number;
  status: SpanStatus;
  attributes: Attributes;
  spans: SpanRecord[];
  error?: { code: string; message: string };
};

/** Where finished traces go. */
export type TraceSink = {
  record(trace: TraceRecord): void;
  [Symbol.asyncDispose](): Promise<void>;
};

export type SpanHandle = {
  setAttributes(attributes: Attributes): void;
  end(error?: unknown): void;
};

/** A trace being recorded. Steps call `span(name, fn)`; the HTTP edge ends the trace. */
export type ActiveTrace = {
  readonly id: string;
  setAttributes(attributes: Attributes): void;
  startSpan(name: string, attributes?: Attributes): SpanHandle;
  span<T>(name: string, run: (span: SpanHandle) => Promise<T>, attributes?: Attributes): Promise<T>;
  /** Finishes the trace and hands it to the sinks; later calls do nothing. */
  end(error?: unknown): TraceRecord;
};

export type Tracer = {
  startTrace(name: string, attributes?: Attributes): ActiveTrace;
  [Symbol.asyncDispose](): Promise<void>;
};
