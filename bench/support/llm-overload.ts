/**
 * Time to first token and latency under overload, for an OpenAI-compatible server with admission
 * control (serve-llm). First the latency without overload at the configured concurrency limit
 * (`--max-concurrent-requests` clients: every sequence busy and the queue full, nobody refused),
 * then twice as many clients as the server admits: the admitted requests' TTFT, latency p99 and
 * queue wait, and how many got 429. The contract (issue 8): admitted p99 ≤ 2 × the p99 without
 * overload at the limit, excess refused at once with 429 (no unbounded waits). The p99 with only
 * `--parallel` clients (no queue) is reported too: against it a queued request, which waits up to
 * one whole generation, is expected at about 2×.
 */
import {
  type CompletionSettings,
  makePrompts,
  percentiles,
  type RequestResult,
  runLoad,
  streamCompletion,
} from "./completion-load.js";

export type OverloadOptions = {
  /** Sequences of the server (its concurrency limit for decoding). */
  parallel: number;
  /** Running + queued requests the server admits (from its /info). */
  maxConcurrentRequests: number;
  /** Admitted requests to measure in each phase. */
  requests: number;
  promptWords: number;
  settings: CompletionSettings;
  /** Clients in the overloaded phase; default 2 × maxConcurrentRequests. */
  clients?: number;
};

export type OverloadResult = {
  parallel: number;
  maxConcurrentRequests: number;
  clients: number;
  /** At the concurrency limit (maxConcurrentRequests clients), no excess. */
  unloaded: { latencyP99Ms: number; latencyP50Ms: number; ttftP50Ms: number };
  /** With `parallel` clients: every sequence busy, nothing queued. */
  atParallel: { latencyP99Ms: number };
  overloaded: {
    admitted: number;
    rejected429: number;
    otherFailures: number;
    /** Time from sending to a 429: the refusal must be immediate. */
    rejectionP99Ms: number;
    ttftMs: { p50: number; p95: number; p99: number };
    latencyMs: { p50: number; p99: number };
    /** Mean wait for a sequence of the admitted requests, from the server's /metrics. */
    queueWaitMeanMs: number | undefined;
  };
  /** Admitted p99 ÷ p99 at the limit without overload (target ≤ 2). */
  p99Ratio: number;
  /** Admitted p99 ÷ p99 with `parallel` clients. */
  p99RatioToParallel: number;
};

export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const position = (sorted.length - 1) * q;
  const lower = sorted[Math.floor(position)] ?? Number.NaN;
  const upper = sorted[Math.ceil(position)] ?? Number.NaN;
  return lower + (upper - lower) * (position - Math.floor(position));
}

/** Sum and count of the server's queue-wait histogram (`/metrics`), or undefined if unreachable. */
export async function queueMetrics(url: string): Promise<{ sum: number; count: number } | undefined> {
  const response = await fetch(`${url}/metrics`).catch(() => undefined);
  if (response === undefined || !response.ok) return undefined;
  const body = await response.text();
  const read = (metric: string): number => {
    const line = body.split("\n").find((candidate) => candidate.startsWith(`${metric} `));
    return line === undefined ? 0 : Number(line.slice(metric.length + 1));
  };
  return {
    sum: read("llm_twin_request_queue_duration_seconds_sum"),
    count: read("llm_twin_request_queue_duration_seconds_count"),
  };
}

export async function measureOverload(url: string, options: OverloadOptions): Promise<OverloadResult> {
  const parallelRun = await runLoad(
    url,
    makePrompts(options.requests, options.promptWords, 4141),
    options.parallel,
    options.settings,
  );
  const unloadedRun = await runLoad(
    url,
    makePrompts(options.requests, options.promptWords, 4242),
    options.maxConcurrentRequests,
    options.settings,
  );
  const clients = options.clients ?? options.maxConcurrentRequests * 2;
  const prompts = makePrompts(options.requests * 4, options.promptWords, 4343);
  const admitted: RequestResult[] = [];
  const rejections: number[] = [];
  let otherFailures = 0;
  let next = 0;
  const before = await queueMetrics(url);
  const client = async (): Promise<void> => {
    while (admitted.length < options.requests && next < prompts.length * 8) {
      const prompt = prompts[next % prompts.length] ?? "";
      next += 1;
      const result = await streamCompletion(url, prompt, options.settings);
      if (result.ok) admitted.push(result);
      else if (result.status === 429) {
        rejections.push(result.latencyMs);
        // A client that was refused retries after a short pause, as a well-behaved client would.
        await new Promise((resolve) => setTimeout(resolve, 100));
      } else otherFailures += 1;
    }
  };
  await Promise.all(Array.from({ length: clients }, client));
  const after = await queueMetrics(url);
  const waits = before !== undefined && after !== undefined ? after.count - before.count : 0;
  const ttft = admitted
    .map((result) => result.timeToFirstTokenMs)
    .filter((value): value is number => value !== undefined);
  const latency = admitted.map((result) => result.latencyMs);
  const unloadedP99 = quantile(unloadedRun.samples.latency, 0.99);
  const parallelP99 = quantile(parallelRun.samples.latency, 0.99);
  const admittedP99 = quantile(latency, 0.99);
  return {
    parallel: options.parallel,
    maxConcurrentRequests: options.maxConcurrentRequests,
    clients,
    unloaded: {
      latencyP99Ms: unloadedP99,
      latencyP50Ms: percentiles(unloadedRun.samples.latency).p50,
      ttftP50Ms: percentiles(unloadedRun.samples.ttft).p50,
    },
    atParallel: { latencyP99Ms: parallelP99 },
    overloaded: {
      admitted: admitted.length,
      rejected429: rejections.length,
      otherFailures,
      rejectionP99Ms: quantile(rejections, 0.99),
      ttftMs: { p50: quantile(ttft, 0.5), p95: quantile(ttft, 0.95), p99: quantile(ttft, 0.99) },
      latencyMs: { p50: quantile(latency, 0.5), p99: admittedP99 },
      queueWaitMeanMs:
        before !== undefined && after !== undefined && waits > 0
          ? ((after.sum - before.sum) * 1000) / waits
          : undefined,
    },
    p99Ratio: admittedP99 / unloadedP99,
    p99RatioToParallel: admittedP99 / parallelP99,
  };
}
