/**
 * Prometheus metrics under TGI's names (its router's, so TGI's Grafana dashboards work unchanged),
 * registered beside the project's own llm_twin_* metrics. Types and buckets follow TGI: every
 * `*_duration` histogram has 35 geometric buckets from 0.00015 s (×1.5 each); input lengths have
 * 100 linear buckets up to the input token limit, generated tokens 100 up to the total token limit.
 *
 * Per HTTP generation request (/, /generate, /generate_stream, /invocations, /v1/completions,
 * /v1/chat/completions): tgi_request_count, tgi_request_success, tgi_request_failure{err},
 * tgi_request_duration (arrival to last byte). Per generation (engine observer):
 * tgi_request_queue_duration, tgi_request_inference_duration (admission to end),
 * tgi_request_mean_time_per_token_duration (inference ÷ generated tokens), tgi_request_input_length,
 * tgi_request_generated_tokens, tgi_request_max_new_tokens (the request's budget). Gauges at
 * scrape time: tgi_queue_size, tgi_batch_current_size (sequences serving a request),
 * tgi_batch_current_max_tokens (those sequences × max total tokens: the tokens the running batch
 * may reach). Batch metrics (tgi_batch_*{method}): tgi-batch-metrics.ts.
 */
import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import type { EngineObserver } from "../llm/llama-cpp/index.js";
import type { ModelHolder } from "./model-holder.js";
import { createTgiBatchMetrics } from "./tgi-batch-metrics.js";

/** Routes that generate: their requests count in tgi_request_*. */
export const GENERATION_ROUTES: ReadonlySet<string> = new Set([
  "/",
  "/generate",
  "/generate_stream",
  "/invocations",
  "/v1/completions",
  "/v1/chat/completions",
]);

/** Token limits the length buckets are cut from (the engine's are known only after loading). */
export type TgiBucketLimits = { maxInputTokens: number; maxTotalTokens: number };

export const DEFAULT_TGI_BUCKET_LIMITS: TgiBucketLimits = { maxInputTokens: 1024, maxTotalTokens: 2048 };

export type TgiMetrics = {
  observer: Required<Pick<EngineObserver, "onQueued" | "onFirstToken" | "onTokenDelivered" | "onFinished">>;
  observeRequest(labels: { endpoint: string; status: number }, seconds: number): void;
};

/** TGI's duration buckets: 0.0001 × 1.5^k, k = 1..35. */
export function tgiDurationBuckets(): number[] {
  const buckets: number[] = [];
  let value = 0.0001;
  for (let index = 0; index < 35; index += 1) {
    value *= 1.5;
    buckets.push(value);
  }
  return buckets;
}

/** 100 linear buckets up to `limit` (TGI's input length and generated tokens buckets). */
export function tgiLinearBuckets(limit: number): number[] {
  return Array.from({ length: 100 }, (_, index) => (limit / 100) * (index + 1));
}

/** Every `err` label tgiErrorLabel gives: exported at 0 from the start, so each has a series. */
const TGI_ERROR_LABELS = [
  "validation",
  "overloaded",
  "incomplete_generation",
  "unhealthy",
  "timeout",
  "unauthorized",
  "not_found",
  "generation",
] as const;

/** TGI's `err` label for a failed request's HTTP status (499: the client went away). */
export function tgiErrorLabel(status: number): (typeof TGI_ERROR_LABELS)[number] {
  if (status === 429) return "overloaded";
  if (status === 499) return "incomplete_generation";
  if (status === 503) return "unhealthy";
  if (status === 504) return "timeout";
  if (status === 401 || status === 403) return "unauthorized";
  if (status === 404) return "not_found";
  if (status >= 400 && status < 500) return "validation";
  return "generation";
}

export function createTgiMetrics(
  registry: Registry,
  holder: ModelHolder,
  limits: TgiBucketLimits = DEFAULT_TGI_BUCKET_LIMITS,
): TgiMetrics {
  const registers = [registry];
  const durationBuckets = tgiDurationBuckets();
  const count = new Counter({ name: "tgi_request_count", help: "Total number of requests", registers });
  const success = new Counter({ name: "tgi_request_success", help: "Number of successful requests", registers });
  const failure = new Counter({
    name: "tgi_request_failure",
    help: "Number of failed requests, by error type",
    labelNames: ["err"] as const,
    registers,
  });
  for (const err of TGI_ERROR_LABELS) failure.inc({ err }, 0);
  const duration = new Histogram({
    name: "tgi_request_duration",
    help: "Total time spent processing the request (e2e latency), seconds",
    buckets: durationBuckets,
    registers,
  });
  const queueDuration = new Histogram({
    name: "tgi_request_queue_duration",
    help: "Time spent in the queue per request, seconds",
    buckets: durationBuckets,
    registers,
  });
  const inferenceDuration = new Histogram({
    name: "tgi_request_inference_duration",
    help: "Request inference duration, seconds",
    buckets: durationBuckets,
    registers,
  });
  const meanTimePerToken = new Histogram({
    name: "tgi_request_mean_time_per_token_duration",
    help: "Mean time per token per request, seconds",
    buckets: durationBuckets,
    registers,
  });
  const inputLength = new Histogram({
    name: "tgi_request_input_length",
    help: "Input token count per request",
    buckets: tgiLinearBuckets(limits.maxInputTokens),
    registers,
  });
  const generatedTokens = new Histogram({
    name: "tgi_request_generated_tokens",
    help: "Generated tokens per request",
    buckets: tgiLinearBuckets(limits.maxTotalTokens),
    registers,
  });
  const maxNewTokens = new Histogram({
    name: "tgi_request_max_new_tokens",
    help: "Maximum new tokens per request",
    buckets: tgiLinearBuckets(limits.maxTotalTokens),
    registers,
  });
  const gauge = (name: string, help: string, read: (engine: NonNullable<ModelHolder["engine"]>) => number) =>
    new Gauge({
      name,
      help,
      registers,
      collect() {
        const engine = holder.engine;
        this.set(engine === undefined ? 0 : read(engine));
      },
    });
  gauge("tgi_queue_size", "Current queue size", (engine) => engine.stats().queueSize);
  gauge("tgi_batch_current_size", "Current batch size", (engine) => engine.stats().sequencesInUse);
  gauge(
    "tgi_batch_current_max_tokens",
    "Maximum tokens for the current batch",
    (engine) => engine.stats().sequencesInUse * engine.limits.maxTotalTokens,
  );
  const batch = createTgiBatchMetrics(registry, durationBuckets);
  return {
    observer: {
      onQueued(ms) {
        queueDuration.observe(ms / 1000);
      },
      onFirstToken: batch.onFirstToken,
      onTokenDelivered: batch.onTokenDelivered,
      onFinished(summary) {
        batch.onFinished(summary);
        if (summary.finishReason === "error") return;
        const inferenceSeconds = (summary.inferenceMs ?? 0) / 1000;
        inferenceDuration.observe(inferenceSeconds);
        if (summary.completionTokens > 0) meanTimePerToken.observe(inferenceSeconds / summary.completionTokens);
        inputLength.observe(summary.promptTokens);
        generatedTokens.observe(summary.completionTokens);
        if (summary.maxNewTokens !== undefined) maxNewTokens.observe(summary.maxNewTokens);
      },
    },
    observeRequest(labels, seconds) {
      if (!GENERATION_ROUTES.has(labels.endpoint)) return;
      count.inc();
      duration.observe(seconds);
      if (labels.status < 400) success.inc();
      else failure.inc({ err: tgiErrorLabel(labels.status) });
    },
  };
}
