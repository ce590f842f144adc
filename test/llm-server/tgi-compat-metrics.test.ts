/**
 * TGI's compat route (POST /) and the tgi_* Prometheus metrics, scraped from /metrics after real
 * requests on the generated tiny model.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tgiDurationBuckets, tgiErrorLabel, tgiLinearBuckets } from "../../src/llm-server/tgi-metrics.js";
import { metricValue, sseData, startTestService, type TestService } from "./helpers.js";

let service: TestService;
beforeAll(async () => {
  service = await startTestService();
});
afterAll(async () => {
  await service?.close();
});

async function scrape(): Promise<string> {
  const response = await service.app.inject({ method: "GET", url: "/metrics" });
  expect(response.statusCode).toBe(200);
  return response.body;
}

function metricType(body: string, name: string): string | undefined {
  return body
    .split("\n")
    .find((line) => line.startsWith(`# TYPE ${name} `))
    ?.split(" ")[3];
}

describe("POST / (TGI's compat route)", () => {
  it("answers like /generate in a list, or like /generate_stream with stream: true", async () => {
    const parameters = { max_new_tokens: 6, ignore_eos: true, details: true };
    const plain = await service.app.inject({ method: "POST", url: "/generate", payload: { inputs: "Hi", parameters } });
    const compat = await service.app.inject({ method: "POST", url: "/", payload: { inputs: "Hi", parameters } });
    expect(compat.statusCode).toBe(200);
    const list = compat.json() as Array<{ generated_text: string; details: { generated_tokens: number } }>;
    expect(list).toHaveLength(1);
    expect(list[0]?.generated_text).toBe((plain.json() as { generated_text: string }).generated_text);
    expect(list[0]?.details.generated_tokens).toBe(6);

    const stream = await service.app.inject({
      method: "POST",
      url: "/",
      payload: { inputs: "Hi", parameters, stream: true },
    });
    expect(stream.statusCode).toBe(200);
    expect(stream.headers["content-type"]).toContain("text/event-stream");
    const events = sseData(stream.body).map((data) => JSON.parse(data) as { generated_text: string | null });
    expect(events).toHaveLength(6);
    expect(events.at(-1)?.generated_text).toBe(list[0]?.generated_text);
  });

  it("refuses a bad body with TGI's 422 shape", async () => {
    const response = await service.app.inject({ method: "POST", url: "/", payload: { inputs: "" } });
    expect(response.statusCode).toBe(422);
    expect(response.json()).toMatchObject({ error_type: "validation" });
  });
});

describe("tgi_* metrics", () => {
  it("are exposed with TGI's names and types and move with requests", async () => {
    const before = await scrape();
    for (const [name, type] of [
      ["tgi_request_count", "counter"],
      ["tgi_request_success", "counter"],
      ["tgi_request_failure", "counter"],
      ["tgi_request_duration", "histogram"],
      ["tgi_request_queue_duration", "histogram"],
      ["tgi_request_inference_duration", "histogram"],
      ["tgi_request_mean_time_per_token_duration", "histogram"],
      ["tgi_request_input_length", "histogram"],
      ["tgi_request_generated_tokens", "histogram"],
      ["tgi_request_max_new_tokens", "histogram"],
      ["tgi_queue_size", "gauge"],
      ["tgi_batch_current_size", "gauge"],
      ["tgi_batch_current_max_tokens", "gauge"],
    ] as const) {
      expect(metricType(before, name), name).toBe(type);
    }
    const count = (body: string) => metricValue(body, "tgi_request_count");
    const success = (body: string) => metricValue(body, "tgi_request_success");
    const generated = (body: string) => metricValue(body, "tgi_request_generated_tokens_sum");
    const failures = (body: string) =>
      Number(
        body
          .split("\n")
          .find((line) => line.startsWith('tgi_request_failure{err="validation"}'))
          ?.split(" ")[1] ?? 0,
      );

    const ok = await service.app.inject({
      method: "POST",
      url: "/generate",
      payload: { inputs: "Hello", parameters: { max_new_tokens: 5, ignore_eos: true } },
    });
    expect(ok.statusCode).toBe(200);
    const chat = await service.app.inject({
      method: "POST",
      url: "/v1/chat/completions",
      payload: { messages: [{ role: "user", content: "Hi" }], max_tokens: 3, ignore_eos: true },
    });
    expect(chat.statusCode).toBe(200);
    const bad = await service.app.inject({
      method: "POST",
      url: "/generate",
      payload: { inputs: "Hello", parameters: { max_new_tokens: -1 } },
    });
    expect(bad.statusCode).toBe(422);
    await service.app.inject({ method: "GET", url: "/info" });

    const after = await scrape();
    expect(count(after) - count(before)).toBe(3);
    expect(success(after) - success(before)).toBe(2);
    expect(failures(after) - failures(before)).toBe(1);
    expect(generated(after) - generated(before)).toBe(8);
    // The budgets: 5 (max_new_tokens) and 3 (max_tokens).
    expect(
      metricValue(after, "tgi_request_max_new_tokens_sum") - metricValue(before, "tgi_request_max_new_tokens_sum"),
    ).toBe(8);
    expect(metricValue(after, "tgi_request_inference_duration_count")).toBeGreaterThanOrEqual(2);
    expect(metricValue(after, "tgi_request_mean_time_per_token_duration_sum")).toBeGreaterThan(0);
    expect(metricValue(after, "tgi_request_input_length_sum")).toBeGreaterThan(0);
    expect(metricValue(after, "tgi_queue_size")).toBe(0);
    expect(metricValue(after, "tgi_batch_current_size")).toBe(0);
    // TGI's duration buckets: 0.00015 s × 1.5^k, 35 of them.
    expect(after).toMatch(/tgi_request_duration_bucket\{le="0\.000150*\d?"\}/);
  });

  it("buckets and error labels follow TGI", () => {
    const durations = tgiDurationBuckets();
    expect(durations).toHaveLength(35);
    expect(durations[0]).toBeCloseTo(0.00015);
    expect(durations[1]).toBeCloseTo(0.000225);
    expect(tgiLinearBuckets(1000)).toHaveLength(100);
    expect(tgiLinearBuckets(1000).at(-1)).toBe(1000);
    expect(tgiErrorLabel(422)).toBe("validation");
    expect(tgiErrorLabel(429)).toBe("overloaded");
    expect(tgiErrorLabel(500)).toBe("generation");
  });
});
