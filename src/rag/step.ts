/** One step of the RAG pipeline: a trace span around it and its duration in the request's timings. */
import { performance } from "node:perf_hooks";
import type { ActiveTrace, Attributes, SpanHandle } from "../observability/tracing/index.js";
import type { RagTimings } from "./types.js";

export type StepOptions = {
  trace: ActiveTrace;
  /** The span's name, e.g. "search". */
  name: string;
  /** Where the duration goes, whether the step succeeds or throws. */
  timings: RagTimings;
  timing: Exclude<keyof RagTimings, "totalMs" | "rerank">;
  /** The span's attributes at its start. */
  attributes?: Attributes;
};

/** Runs `run` inside a span named `name`, recording its wall time in `timings[timing]`. */
export function runStep<T>(options: StepOptions, run: (span: SpanHandle) => Promise<T>): Promise<T> {
  return options.trace.span(
    options.name,
    async (span) => {
      const start = performance.now();
      try {
        return await run(span);
      } finally {
        options.timings[options.timing] = performance.now() - start;
      }
    },
    options.attributes,
  );
}
