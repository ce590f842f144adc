/**
 * TGI's Grafana dashboard against a real Prometheus (Debian's `prometheus`; skipped without it):
 * Prometheus scrapes the LLM service every second, with the `container` label the dashboard filters
 * on (Kubernetes adds it; a static scrape config sets it, see docs/llm-service.md), and every panel's
 * kind of query — quantiles of rates of `_bucket` series, heatmaps of increases, rates of
 * `_sum`/`_count`, increases by `err`/`reason`, gauges, the `container` variable — returns data
 * after a few requests made between two scrapes.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../src/testing/free-port.js";
import { generationPastFirstToken, startTestService, type TestService, waitFor } from "./helpers.js";

const PROMETHEUS = "/usr/bin/prometheus";
const SERVICE = "llm-twin";

/** The dashboard's kinds of query, built for one metric and label selector. */
const selector = (labels: string): string => `{${labels === "" ? "" : `${labels}, `}container="${SERVICE}"}`;
const quantile = (metric: string, labels = ""): string =>
  `histogram_quantile(0.5, sum by (le) (rate(${metric}_bucket${selector(labels)}[10m])))`;
const positiveMs = (metric: string, labels = ""): string => `(${quantile(metric, labels)} * 1000) > 0`;
const heatmap = (metric: string, labels = ""): string =>
  `sum(increase(${metric}_bucket${selector(labels)}[5m])) by (le)`;
const increaseBy = (metric: string, by: string): string => `sum(increase(${metric}${selector("")}[1m])) by (${by})`;

const QUERIES = [
  positiveMs("tgi_request_queue_duration"),
  positiveMs("tgi_batch_inference_duration", 'method="prefill"'),
  positiveMs("tgi_batch_forward_duration", 'method="decode"'),
  `sum((rate(tgi_request_generated_tokens_sum${selector("")}[10m]) / rate(tgi_request_generated_tokens_count${selector("")}[10m]))>0)`,
  quantile("tgi_request_input_length"),
  quantile("tgi_request_generated_tokens"),
  `sum(increase(tgi_request_success${selector("")}[1m]))`,
  increaseBy("tgi_request_failure", "err"),
  quantile("tgi_request_mean_time_per_token_duration"),
  heatmap("tgi_request_mean_time_per_token_duration"),
  `count(tgi_request_count${selector("")})`,
  `sum(tgi_queue_size${selector("")})`,
  `avg(tgi_batch_current_max_tokens${selector("")})`,
  quantile("tgi_request_skipped_tokens"),
  quantile("tgi_request_duration"),
  `avg(tgi_batch_current_size${selector("")})`,
  increaseBy("tgi_batch_concat", "reason"),
  quantile("tgi_request_queue_duration"),
  ...["prefill", "decode"].flatMap((method) => [
    quantile("tgi_batch_inference_duration", `method="${method}"`),
    heatmap("tgi_batch_inference_duration", `method="${method}"`),
  ]),
  ...["forward", "decode", "filter", "concat"].flatMap((step) => [
    quantile(`tgi_batch_${step}_duration`, 'method="decode"'),
    heatmap(`tgi_batch_${step}_duration`, 'method="decode"'),
  ]),
];

type QueryResult = {
  status: string;
  data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> };
};

describe.skipIf(!existsSync(PROMETHEUS))("TGI's Grafana dashboard on a real Prometheus", () => {
  let service: TestService;
  let prometheus: ChildProcess | undefined;
  let directory: string;
  let prometheusUrl: string;

  const query = async (expression: string): Promise<QueryResult> => {
    const response = await fetch(`${prometheusUrl}/api/v1/query?query=${encodeURIComponent(expression)}`);
    return (await response.json()) as QueryResult;
  };
  const scrapes = async (): Promise<number> => {
    const result = await query(`count_over_time(up{container="${SERVICE}"}[10m])`);
    return Number(result.data.result[0]?.value[1] ?? 0);
  };

  beforeAll(async () => {
    service = await startTestService({ parallel: 2 });
    await service.app.listen({ host: "127.0.0.1", port: 0 });
    const address = service.app.server.address();
    if (address === null || typeof address === "string") throw new Error("no address");
    directory = await mkdtemp(path.join(tmpdir(), "llm-twin-prometheus-"));
    const config = [
      "global:",
      "  scrape_interval: 1s",
      "scrape_configs:",
      `  - job_name: ${SERVICE}`,
      "    static_configs:",
      `      - targets: ["127.0.0.1:${address.port}"]`,
      "        labels:",
      `          container: ${SERVICE}`,
    ].join("\n");
    await writeFile(path.join(directory, "prometheus.yml"), config);
    const port = await freePort();
    prometheusUrl = `http://127.0.0.1:${port}`;
    prometheus = spawn(
      PROMETHEUS,
      [
        `--config.file=${path.join(directory, "prometheus.yml")}`,
        `--storage.tsdb.path=${path.join(directory, "data")}`,
        `--web.listen-address=127.0.0.1:${port}`,
        "--log.level=error",
      ],
      { stdio: "ignore" },
    );
    await waitFor(async () => (await scrapes().catch(() => 0)) >= 1, "Prometheus' first scrape", 30_000);
  }, 60_000);

  afterAll(async () => {
    prometheus?.kill("SIGTERM");
    if (prometheus !== undefined && prometheus.exitCode === null) {
      await new Promise((resolve) => prometheus?.once("exit", resolve));
    }
    await service?.close();
    if (directory !== undefined) await rm(directory, { recursive: true, force: true });
  });

  it("answers every kind of panel query after a few requests", async () => {
    const running = await generationPastFirstToken(service);
    const post = (url: string, payload: object) => service.app.inject({ method: "POST", url, payload });
    expect(
      (await post("/generate", { inputs: "Hello", parameters: { max_new_tokens: 6, ignore_eos: true } })).statusCode,
    ).toBe(200);
    await running.return(undefined);
    expect(
      (await post("/generate_stream", { inputs: "Hi", parameters: { max_new_tokens: 4, ignore_eos: true } }))
        .statusCode,
    ).toBe(200);
    expect((await post("/generate", { inputs: "" })).statusCode).toBe(422);
    const before = await scrapes();
    await waitFor(async () => (await scrapes()) >= before + 2, "two scrapes after the requests", 30_000);

    for (const expression of QUERIES) {
      const result = await query(expression);
      expect(result.status, expression).toBe("success");
      expect(result.data.result.length, expression).toBeGreaterThan(0);
      for (const sample of result.data.result) expect(Number.isNaN(Number(sample.value[1])), expression).toBe(false);
    }
    const containers = (await (
      await fetch(`${prometheusUrl}/api/v1/label/container/values?match[]=tgi_request_count`)
    ).json()) as { data: string[] };
    expect(containers.data).toEqual([SERVICE]);
    const success = await query(`sum(increase(tgi_request_success${selector("")}[1m]))`);
    expect(Number(success.data.result[0]?.value[1])).toBeGreaterThan(0);
  }, 60_000);
});
