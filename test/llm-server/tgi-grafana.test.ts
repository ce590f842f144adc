/**
 * TGI's Grafana dashboard (assets/tgi_grafana.json in text-generation-inference) against /metrics:
 * every series its panels query (metric, `_bucket`/`_sum`/`_count` suffix, `method`/`reason`/`err`
 * labels; its `container` label comes from Prometheus' scrape, not from the server) is exported,
 * with data behind it after a few requests, two of them in one batch.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generationPastFirstToken, startTestService, type TestService } from "./helpers.js";

/** The series the dashboard's panels read, as `name{label="value"}`. */
const DASHBOARD_SERIES = [
  // Time to first token = queue + prefill; Decode per-token latency; Throughput.
  "tgi_request_queue_duration_bucket",
  'tgi_batch_inference_duration_bucket{method="prefill"}',
  'tgi_batch_forward_duration_bucket{method="decode"}',
  "tgi_request_generated_tokens_sum",
  "tgi_request_generated_tokens_count",
  // Tokens per prompt / generated; General row.
  "tgi_request_input_length_bucket",
  "tgi_request_generated_tokens_bucket",
  "tgi_request_success",
  "tgi_request_failure",
  "tgi_request_mean_time_per_token_duration_bucket",
  "tgi_request_count",
  "tgi_queue_size",
  // Batching row.
  "tgi_batch_current_max_tokens",
  "tgi_request_skipped_tokens_bucket",
  "tgi_request_duration_bucket",
  "tgi_batch_current_size",
  "tgi_batch_concat",
  // Prefill, Decode and Debug rows.
  'tgi_batch_inference_duration_bucket{method="decode"}',
  'tgi_batch_decode_duration_bucket{method="decode"}',
  'tgi_batch_filter_duration_bucket{method="decode"}',
  'tgi_batch_concat_duration_bucket{method="decode"}',
] as const;

type Sample = { name: string; labels: Record<string, string>; value: number };

function parseSamples(body: string): Sample[] {
  return body
    .split("\n")
    .filter((line) => line !== "" && !line.startsWith("#"))
    .map((line) => {
      const match = /^([a-z_:]+)(?:\{(.*)\})? (\S+)$/.exec(line);
      if (match === null) throw new Error(`unparsable metric line: ${line}`);
      const labels: Record<string, string> = {};
      for (const pair of (match[2] ?? "").matchAll(/(\w+)="([^"]*)"/g)) labels[pair[1] ?? ""] = pair[2] ?? "";
      return { name: match[1] ?? "", labels, value: Number(match[3]) };
    });
}

/** The samples of one dashboard series (`name{label="value"}`). */
function seriesOf(samples: Sample[], series: string): Sample[] {
  const match = /^([a-z_]+)(?:\{(\w+)="([^"]*)"\})?$/.exec(series);
  if (match === null) throw new Error(`bad series ${series}`);
  const [, name, label, value] = match;
  return samples.filter(
    (sample) => sample.name === name && (label === undefined || sample.labels[label ?? ""] === value),
  );
}

let service: TestService;
beforeAll(async () => {
  service = await startTestService({ parallel: 2 });
});
afterAll(async () => {
  await service?.close();
});

describe("TGI's Grafana dashboard", () => {
  it("finds every series it queries before any request", async () => {
    const samples = parseSamples((await service.app.inject({ method: "GET", url: "/metrics" })).body);
    for (const series of DASHBOARD_SERIES) expect(seriesOf(samples, series).length, series).toBeGreaterThan(0);
    for (const reason of ["backpressure", "wait_exceeded"]) {
      expect(seriesOf(samples, `tgi_batch_concat{reason="${reason}"}`)).toHaveLength(1);
    }
    expect(seriesOf(samples, 'tgi_request_failure{err="validation"}')).toHaveLength(1);
  });

  it("has data behind each panel after a few requests, one joining a running batch", async () => {
    // A generation holding its sequence after its first token: the next request joins its batch.
    const running = await generationPastFirstToken(service);
    const joined = await service.app.inject({
      method: "POST",
      url: "/generate",
      payload: { inputs: "Hello there", parameters: { max_new_tokens: 6, ignore_eos: true } },
    });
    expect(joined.statusCode).toBe(200);
    await running.return(undefined);
    const streamed = await service.app.inject({
      method: "POST",
      url: "/generate_stream",
      payload: { inputs: "Hi", parameters: { max_new_tokens: 4, ignore_eos: true } },
    });
    expect(streamed.statusCode).toBe(200);
    const refused = await service.app.inject({ method: "POST", url: "/generate", payload: { inputs: "" } });
    expect(refused.statusCode).toBe(422);

    const samples = parseSamples((await service.app.inject({ method: "GET", url: "/metrics" })).body);
    const count = (series: string): number => seriesOf(samples, series).reduce((sum, s) => sum + s.value, 0);
    for (const method of ["prefill", "decode"]) {
      for (const metric of ["inference", "forward", "decode", "filter"]) {
        expect(count(`tgi_batch_${metric}_duration_count{method="${method}"}`), `${metric} ${method}`).toBeGreaterThan(
          0,
        );
        expect(count(`tgi_batch_${metric}_duration_sum{method="${method}"}`), `${metric} ${method}`).toBeGreaterThan(0);
      }
      expect(count(`tgi_batch_inference_success{method="${method}"}`)).toBe(
        count(`tgi_batch_inference_duration_count{method="${method}"}`),
      );
    }
    // Three prefills; decode steps: the tokens after each first one (none for the generation stopped at its first).
    expect(count('tgi_batch_inference_count{method="prefill"}')).toBe(3);
    expect(count('tgi_batch_inference_count{method="decode"}')).toBe(5 + 3);
    expect(count('tgi_batch_concat{reason="backpressure"}')).toBe(1);
    expect(count('tgi_batch_concat_duration_count{method="decode"}')).toBe(1);
    expect(count("tgi_request_skipped_tokens_count")).toBe(2);
    expect(count('tgi_request_skipped_tokens_bucket{le="0"}')).toBe(2);
    expect(count('tgi_request_failure{err="validation"}')).toBe(1);
    expect(count("tgi_request_success")).toBe(2);
    expect(count("tgi_request_queue_duration_count")).toBe(3);
  });
});

describe("a stream that fails after its 200", () => {
  let timed: TestService;
  beforeAll(async () => {
    timed = await startTestService({ requestTimeoutMs: 100 });
  });
  afterAll(async () => {
    await timed?.close();
  });

  it("counts as a failure with its error's label, as TGI counts it", async () => {
    const scrape = async () => parseSamples((await timed.app.inject({ method: "GET", url: "/metrics" })).body);
    const value = (samples: Sample[], series: string): number => seriesOf(samples, series)[0]?.value ?? 0;
    const before = await scrape();
    const streams: Array<[string, object]> = [
      ["/generate_stream", { inputs: "Hi", parameters: { max_new_tokens: 2000, ignore_eos: true } }],
      ["/v1/completions", { prompt: "Hi", max_tokens: 2000, ignore_eos: true, stream: true }],
    ];
    for (const [url, payload] of streams) {
      const response = await timed.app.inject({ method: "POST", url, payload });
      // The 100 ms timeout strikes mid-stream (an error event after the 200), or before the first token (a 504).
      if (response.statusCode === 200) expect(response.body, url).toMatch(/timeout/);
      else expect(response.statusCode, url).toBe(504);
    }
    const after = await scrape();
    expect(
      value(after, 'tgi_request_failure{err="timeout"}') - value(before, 'tgi_request_failure{err="timeout"}'),
    ).toBe(2);
    expect(value(after, "tgi_request_success") - value(before, "tgi_request_success")).toBe(0);
  });
});
