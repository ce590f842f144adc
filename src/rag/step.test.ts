import { describe, expect, it } from "vitest";
import type { ActiveTrace, Attributes } from "../observability/tracing/index.js";
import { runStep } from "./step.js";
import { emptyTimings } from "./types.js";

function recordingTrace(): { trace: ActiveTrace; spans: Array<{ name: string; attributes: Attributes }> } {
  const spans: Array<{ name: string; attributes: Attributes }> = [];
  const trace: ActiveTrace = {
    id: "t",
    setAttributes: () => {},
    startSpan: () => ({ setAttributes: () => {}, end: () => {} }),
    span: async (name, run, attributes = {}) => {
      const record = { name, attributes: { ...attributes } };
      spans.push(record);
      return run({ setAttributes: (more) => Object.assign(record.attributes, more), end: () => {} });
    },
    end: () => {
      throw new Error("not used");
    },
  };
  return { trace, spans };
}

describe("runStep", () => {
  it("runs the step in a span with its attributes and records its duration", async () => {
    const { trace, spans } = recordingTrace();
    const timings = emptyTimings();
    timings.searchMs = -1;
    const result = await runStep(
      { trace, name: "search", timings, timing: "searchMs", attributes: { k: 3 } },
      async (span) => {
        span.setAttributes({ hits: 2 });
        return "done";
      },
    );
    expect(result).toBe("done");
    expect(spans).toEqual([{ name: "search", attributes: { k: 3, hits: 2 } }]);
    expect(timings.searchMs).toBeGreaterThanOrEqual(0);
    expect(timings.rerankMs).toBe(0);
  });

  it("records the duration when the step throws, and rethrows", async () => {
    const { trace } = recordingTrace();
    const timings = emptyTimings();
    timings.rerankMs = -1;
    await expect(
      runStep({ trace, name: "rerank", timings, timing: "rerankMs" }, async () => {
        throw new Error("reranker down");
      }),
    ).rejects.toThrow("reranker down");
    expect(timings.rerankMs).toBeGreaterThanOrEqual(0);
  });
});
