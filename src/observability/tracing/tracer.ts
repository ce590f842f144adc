import { randomBytes } from "node:crypto";
import { performance } from "node:perf_hooks";
import { isAppError } from "../../errors/index.js";
import { applyPromptCapture, DEFAULT_PROMPT_CAPTURE, type PromptCapture } from "./content-policy.js";
import type { ActiveTrace, Attributes, SpanHandle, SpanRecord, TraceRecord, Tracer, TraceSink } from "./types.js";

export function newTraceId(): string {
  return randomBytes(16).toString("hex");
}

export function newSpanId(): string {
  return randomBytes(8).toString("hex");
}

function now(): number {
  return performance.timeOrigin + performance.now();
}

export function describeError(error: unknown): { code: string; message: string } {
  if (isAppError(error)) return { code: error.code, message: error.message };
  if (error instanceof Error)
    return { code: error.name === "AbortError" ? "aborted" : "internal_error", message: error.message };
  return { code: "internal_error", message: String(error) };
}

export type TracerOptions = {
  /** What of prompts, chunks and answers the traces keep (default full). */
  promptCapture?: PromptCapture;
};

/** A tracer that hands every finished trace to each sink (local log, OTLP...). */
export function createTracer(sinks: readonly TraceSink[], options: TracerOptions = {}): Tracer {
  const policy = options.promptCapture ?? DEFAULT_PROMPT_CAPTURE;
  // Filtered once, before any sink sees the trace.
  const filtered: readonly TraceSink[] =
    policy === "full"
      ? sinks
      : [
          {
            record(trace) {
              const kept = applyPromptCapture(trace, policy);
              for (const sink of sinks) sink.record(kept);
            },
            async [Symbol.asyncDispose]() {
              await Promise.all(sinks.map((sink) => sink[Symbol.asyncDispose]()));
            },
          },
        ];
  return {
    startTrace(name, attributes = {}) {
      return startTrace(name, attributes, filtered);
    },
    async [Symbol.asyncDispose]() {
      await Promise.all(sinks.map((sink) => sink[Symbol.asyncDispose]()));
    },
  };
}

function startTrace(name: string, initial: Attributes, sinks: readonly TraceSink[]): ActiveTrace {
  const id = newTraceId();
  const rootSpanId = newSpanId();
  const startTime = now();
  const attributes: Attributes = { ...initial };
  const spans: SpanRecord[] = [];
  let finished: TraceRecord | undefined;

  const startSpan = (spanName: string, spanAttributes: Attributes = {}): SpanHandle => {
    const span: SpanRecord = {
      id: newSpanId(),
      name: spanName,
      startTime: now(),
      durationMs: 0,
      status: "ok",
      attributes: { ...spanAttributes },
    };
    let ended = false;
    return {
      setAttributes(more) {
        Object.assign(span.attributes, more);
      },
      end(error) {
        if (ended) return;
        ended = true;
        span.durationMs = now() - span.startTime;
        if (error !== undefined) {
          span.status = "error";
          span.error = describeError(error);
        }
        spans.push(span);
      },
    };
  };

  return {
    id,
    setAttributes(more) {
      Object.assign(attributes, more);
    },
    startSpan,
    async span(spanName, run, spanAttributes) {
      const handle = startSpan(spanName, spanAttributes);
      try {
        const result = await run(handle);
        handle.end();
        return result;
      } catch (error) {
        handle.end(error);
        throw error;
      }
    },
    end(error) {
      if (finished !== undefined) return finished;
      const record: TraceRecord = {
        id,
        rootSpanId,
        name,
        startTime,
        durationMs: now() - startTime,
        status: error === undefined ? "ok" : "error",
        attributes,
        spans: [...spans].sort((left, right) => left.startTime - right.startTime),
      };
      if (error !== undefined) record.error = describeError(error);
      finished = record;
      for (const sink of sinks) sink.record(record);
      return record;
    },
  };
}

/** A trace that records nothing (for callers without a tracer, e.g. the evaluation harness). */
export function noopTrace(): ActiveTrace {
  const span: SpanHandle = { setAttributes() {}, end() {} };
  let record: TraceRecord | undefined;
  return {
    id: "0".repeat(32),
    setAttributes() {},
    startSpan: () => span,
    span: (_name, run) => run(span),
    end() {
      record ??= {
        id: "0".repeat(32),
        rootSpanId: "0".repeat(16),
        name: "noop",
        startTime: 0,
        durationMs: 0,
        status: "ok",
        attributes: {},
        spans: [],
      };
      return record;
    },
  };
}
