/**
 * Prometheus metrics in the style of TGI and vLLM. Gauges are read from the engine at scrape time;
 * histograms and counters are fed by the engine observer and by a response hook.
 */
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { EngineObserver } from "../llm/llama-cpp/index.js";
import type { ModelHolder } from "./model-holder.js";
import { createTgiMetrics, type TgiBucketLimits } from "./tgi-metrics.js";

export type LlmServerMetrics = {
  readonly registry: Registry;
  readonly observer: EngineObserver;
  observeRequest(labels: { endpoint: string; method: string; status: number }, seconds: number): void;
};

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
const TOKEN_BUCKETS = [1, 8, 32, 64, 128, 256, 512, 1024, 2048, 4096];

/** `tgiBucketLimits`: the token limits TGI's length histograms are cut from (see tgi-metrics.ts). */
export function createLlmServerMetrics(
  holder: ModelHolder,
  options: { tgiBucketLimits?: TgiBucketLimits } = {},
): LlmServerMetrics {
  const registry = new Registry();
  const tgi = createTgiMetrics(registry, holder, options.tgiBucketLimits);
  const requests = new Counter({
    name: "llm_twin_requests_total",
    help: "HTTP requests by endpoint, method and status code",
    labelNames: ["endpoint", "method", "status"] as const,
    registers: [registry],
  });
  const requestDuration = new Histogram({
    name: "llm_twin_request_duration_seconds",
    help: "HTTP request duration, from arrival to the last byte",
    labelNames: ["endpoint"] as const,
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const queueDuration = new Histogram({
    name: "llm_twin_request_queue_duration_seconds",
    help: "Time a generation waited for a free sequence",
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const timeToFirstToken = new Histogram({
    name: "llm_twin_time_to_first_token_seconds",
    help: "Time from admission request to the first generated token (queue wait and prefill included)",
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  // Observed at every generated token: buffered, handed over at scrape time (see perTokenHistogram).
  const interTokenLatency = perTokenHistogram({
    name: "llm_twin_inter_token_latency_seconds",
    help: "Time between consecutive generated tokens of one request",
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
    registers: [registry],
  });
  const promptTokens = new Counter({
    name: "llm_twin_prompt_tokens_total",
    help: "Prompt tokens processed",
    registers: [registry],
  });
  const cachedPromptTokens = new Counter({
    name: "llm_twin_prompt_tokens_cached_total",
    help: "Prompt tokens served from the prompt cache (not decoded again); included in llm_twin_prompt_tokens_total",
    registers: [registry],
  });
  const generatedTokens = new Counter({
    name: "llm_twin_generation_tokens_total",
    help: "Tokens generated",
    registers: [registry],
  });
  const requestPromptTokens = new Histogram({
    name: "llm_twin_request_prompt_tokens",
    help: "Prompt tokens per request",
    buckets: TOKEN_BUCKETS,
    registers: [registry],
  });
  const requestGeneratedTokens = new Histogram({
    name: "llm_twin_request_generation_tokens",
    help: "Generated tokens per request",
    buckets: TOKEN_BUCKETS,
    registers: [registry],
  });
  const nativeStreams = new Counter({
    name: "llm_twin_native_streams_total",
    help: "Streamed responses written to the client's socket by the native engine (--native-streaming)",
    registers: [registry],
  });
  const generations = new Counter({
    name: "llm_twin_generations_total",
    help: "Generations by finish reason (length, eos, stop, error)",
    labelNames: ["finish_reason"] as const,
    registers: [registry],
  });
  const batchSize = perTokenHistogram({
    name: "llm_twin_batch_size",
    help: "Sequences generating together, observed at every generated token",
    buckets: [1, 2, 3, 4, 6, 8, 12, 16, 32],
    registers: [registry],
  });
  const stat = (read: (engine: NonNullable<ModelHolder["engine"]>) => number) => () => {
    const engine = holder.engine;
    return engine === undefined ? 0 : read(engine);
  };
  const gauges: Array<[string, string, () => number]> = [
    ["llm_twin_sequences_in_use", "Context sequences serving a request", stat((e) => e.stats().sequencesInUse)],
    ["llm_twin_sequences_total", "Context sequences (--parallel)", stat((e) => e.stats().sequencesTotal)],
    ["llm_twin_queue_size", "Requests waiting for a free sequence", stat((e) => e.stats().queueSize)],
    ["llm_twin_batch_current_size", "Sequences generating right now", stat((e) => e.stats().activeGenerations)],
    ["llm_twin_model_ready", "1 when the model is loaded and serving", () => (holder.state === "ready" ? 1 : 0)],
    ["llm_twin_model_load_progress", "Model load progress, 0 to 1", () => holder.progress],
  ];
  for (const [name, help, read] of gauges) {
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(read());
      },
    });
  }
  // Counted by the engine's batch gate; read at scrape time (tokens ÷ batches = mean decode batch).
  const decodeCounters: Array<[string, string, () => number]> = [
    ["llm_twin_decode_batches_total", "llama_decode batches run for generation", stat((e) => e.stats().decode.batches)],
    ["llm_twin_decode_batch_tokens_total", "Tokens in those batches", stat((e) => e.stats().decode.tokens)],
  ];
  for (const [name, help, read] of decodeCounters) {
    new Counter({
      name,
      help,
      registers: [registry],
      collect() {
        this.reset();
        this.inc(read());
      },
    });
  }
  return {
    registry,
    observer: {
      onQueued(ms) {
        queueDuration.observe(ms / 1000);
        tgi.observer.onQueued(ms);
      },
      onFirstToken(ms, activeGenerations, prefillMs) {
        timeToFirstToken.observe(ms / 1000);
        batchSize.observe(Math.max(1, activeGenerations));
        tgi.observer.onFirstToken(ms, activeGenerations, prefillMs);
      },
      onInterToken(ms, activeGenerations) {
        interTokenLatency.observe(ms / 1000);
        batchSize.observe(Math.max(1, activeGenerations));
      },
      onTokenDelivered: tgi.observer.onTokenDelivered,
      onNativeStream() {
        nativeStreams.inc();
      },
      onFinished(summary) {
        promptTokens.inc(summary.promptTokens);
        cachedPromptTokens.inc(summary.cachedPromptTokens ?? 0);
        generatedTokens.inc(summary.completionTokens);
        requestPromptTokens.observe(summary.promptTokens);
        requestGeneratedTokens.observe(summary.completionTokens);
        generations.inc({ finish_reason: summary.finishReason });
        tgi.observer.onFinished(summary);
      },
    },
    observeRequest(labels, seconds) {
      requests.inc({ endpoint: labels.endpoint, method: labels.method, status: String(labels.status) });
      requestDuration.observe({ endpoint: labels.endpoint }, seconds);
      tgi.observeRequest(labels, seconds);
    },
  };
}

/** Observations a per-token histogram holds before handing them over between scrapes. */
const PER_TOKEN_BUFFER = 1024;

/**
 * A histogram observed at every generated token, without prom-client's per-call work on the
 * token path: observations wait in a buffer and reach the histogram when it is scraped (its
 * `collect`) or when the buffer is full, so every scrape counts every observation made before it.
 */
function perTokenHistogram(configuration: { name: string; help: string; buckets: number[]; registers: Registry[] }): {
  observe(value: number): void;
} {
  const pending: number[] = [];
  const histogram: Histogram = new Histogram({
    ...configuration,
    collect() {
      flush();
    },
  });
  function flush(): void {
    for (const value of pending) histogram.observe(value);
    pending.length = 0;
  }
  return {
    observe(value) {
      pending.push(value);
      if (pending.length >= PER_TOKEN_BUFFER) flush();
    },
  };
}
