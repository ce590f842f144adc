import { describe, expect, it } from "vitest";
import { createLlmServerMetrics } from "./metrics.js";
import { createModelHolder } from "./model-holder.js";

const sample = (text: string, name: string): number => {
  const line = text.split("\n").find((candidate) => candidate.startsWith(`${name} `));
  return line === undefined ? Number.NaN : Number(line.slice(name.length + 1));
};

describe("per-token histograms", () => {
  it("count every observation made before a scrape, in the right buckets", async () => {
    const metrics = createLlmServerMetrics(createModelHolder());
    metrics.observer.onFirstToken?.(20, 1, 15);
    for (let index = 0; index < 2_500; index += 1) metrics.observer.onInterToken?.(index < 2_000 ? 0.8 : 40, 3);
    const first = await metrics.registry.metrics();
    expect(sample(first, "llm_twin_inter_token_latency_seconds_count")).toBe(2_500);
    expect(sample(first, 'llm_twin_inter_token_latency_seconds_bucket{le="0.001"}')).toBe(2_000);
    expect(sample(first, "llm_twin_inter_token_latency_seconds_sum")).toBeCloseTo(2_000 * 0.0008 + 500 * 0.04, 6);
    expect(sample(first, "llm_twin_batch_size_count")).toBe(2_501);
    expect(sample(first, 'llm_twin_batch_size_bucket{le="1"}')).toBe(1);
    expect(sample(first, 'llm_twin_batch_size_bucket{le="3"}')).toBe(2_501);

    // Observations after a scrape reach the next one, once each.
    metrics.observer.onInterToken?.(5, 0);
    const second = await metrics.registry.metrics();
    expect(sample(second, "llm_twin_inter_token_latency_seconds_count")).toBe(2_501);
    expect(sample(second, 'llm_twin_batch_size_bucket{le="1"}')).toBe(2);
    expect(sample(await metrics.registry.metrics(), "llm_twin_batch_size_count")).toBe(2_502);
  });
});
