import { describe, expect, it } from "vitest";
import { createHttpMetrics } from "./metrics.js";

describe("process metric names", () => {
  it("prefixes prom-client's process_ and nodejs_ metrics with the service once", async () => {
    const text = await createHttpMetrics("llm_twin_rag_").registry.metrics();
    expect(text).toContain("llm_twin_rag_process_cpu_user_seconds_total");
    expect(text).toContain("llm_twin_rag_nodejs_heap_size_total_bytes");
    expect(text).not.toContain("process_process_");
    expect(text).not.toContain("process_nodejs_");
  });
});
