/**
 * TGI's batch metrics, labelled `method` = `prefill` | `decode` as TGI's router labels them, which
 * its Grafana dashboard reads for "Time to first token", "Decode per-token latency" and the Prefill,
 * Decode and Debug rows. TGI times each batch call to its model server; here every sequence is
 * decoded in the engine's loop, so each request reports the steps it sees:
 *
 * - prefill (once per request): tgi_batch_inference_duration and tgi_batch_forward_duration =
 *   admission to the first token (the prompt's decode and the first sampling);
 * - decode (every token after the first, observed when the generation ends): the same two = the
 *   request's mean step, first to last token ÷ steps. Not each token's own interval: the native
 *   loop runs ahead and its tokens reach JavaScript in bursts when the event loop is busy, so those
 *   intervals would mostly show delivery, not decoding;
 * - tgi_batch_decode_duration{method}: turning the token into text (detokenization, stop
 *   sequences); tgi_batch_filter_duration{method}: handing the token to the route until it asks for
 *   the next one (serialization, the write to the client);
 * - tgi_batch_inference_count and tgi_batch_inference_success{method}: those steps, counted;
 * - tgi_batch_concat{reason="backpressure"}: a request whose first token came while others were
 *   already past theirs (it joined a batch already generating);
 *   tgi_batch_concat_duration{method="decode"}: 0 s for each (llama.cpp adds a sequence to the
 *   running batch without copying anything); `reason="wait_exceeded"` stays 0.
 * - tgi_request_skipped_tokens: 0 per generation (no speculative decoding).
 *
 * Every label value is exported from the start (0), so each dashboard query has a series. Per-token
 * observations wait in a buffer until a scrape (or 1,024 of them), as the project's own per-token
 * histograms do (metrics.ts): the token path does not pay prom-client's label lookups.
 */
import { Counter, Histogram, type Registry } from "prom-client";
import type { EngineObserver } from "../llm/llama-cpp/index.js";

export type TgiBatchObserver = Required<Pick<EngineObserver, "onFirstToken" | "onTokenDelivered" | "onFinished">>;

const METHODS = ["prefill", "decode"] as const;
type Method = (typeof METHODS)[number];

/** Observations held per histogram before they are handed over between scrapes. */
const BUFFER = 1024;

type MethodHistogram = { observe(method: Method, seconds: number): void };

export function createTgiBatchMetrics(registry: Registry, durationBuckets: number[]): TgiBatchObserver {
  const registers = [registry];
  const histogram = (name: string, help: string): MethodHistogram =>
    methodHistogram({ name, help, buckets: durationBuckets, registers });
  const inference = histogram("tgi_batch_inference_duration", "Batch inference duration, seconds");
  const forward = histogram("tgi_batch_forward_duration", "Batch forward duration per method, seconds");
  const decode = histogram("tgi_batch_decode_duration", "Time spent decoding a batch per method, seconds");
  const filter = histogram(
    "tgi_batch_filter_duration",
    "Time spent filtering batches and sending generated tokens per method, seconds",
  );
  const concatDuration = new Histogram({
    name: "tgi_batch_concat_duration",
    help: "Time spent concatenating batches, seconds",
    labelNames: ["method"] as const,
    buckets: durationBuckets,
    registers,
  });
  concatDuration.zero({ method: "decode" });
  const steps = { prefill: 0, decode: 0 };
  // Generations past their first token and not finished: the batch a new request joins.
  let decoding = 0;
  for (const [name, help] of [
    ["tgi_batch_inference_count", "Inference calls per method"],
    ["tgi_batch_inference_success", "Successful inference calls per method"],
  ] as const) {
    new Counter({
      name,
      help,
      labelNames: ["method"] as const,
      registers,
      collect() {
        this.reset();
        for (const method of METHODS) this.inc({ method }, steps[method]);
      },
    });
  }
  const concat = new Counter({
    name: "tgi_batch_concat",
    help: "Batches joined by new requests, by reason",
    labelNames: ["reason"] as const,
    registers,
  });
  concat.inc({ reason: "backpressure" }, 0);
  concat.inc({ reason: "wait_exceeded" }, 0);
  const skippedTokens = new Histogram({
    name: "tgi_request_skipped_tokens",
    help: "Speculated tokens per request",
    buckets: [0],
    registers,
  });
  return {
    onFirstToken(_ttftMs, _activeGenerations, prefillMs) {
      steps.prefill += 1;
      inference.observe("prefill", prefillMs / 1000);
      forward.observe("prefill", prefillMs / 1000);
      if (decoding > 0) {
        concat.inc({ reason: "backpressure" });
        concatDuration.observe({ method: "decode" }, 0);
      }
      decoding += 1;
    },
    onTokenDelivered(first, textMs, deliveryMs) {
      const method: Method = first ? "prefill" : "decode";
      decode.observe(method, textMs / 1000);
      filter.observe(method, deliveryMs / 1000);
    },
    onFinished(summary) {
      if (summary.completionTokens > 0) decoding -= 1;
      if (summary.finishReason === "error") return;
      skippedTokens.observe(0);
      const decodeSteps = summary.completionTokens - 1;
      if (decodeSteps < 1) return;
      steps.decode += decodeSteps;
      const meanStep = (summary.decodeMs ?? 0) / 1000 / decodeSteps;
      for (let step = 0; step < decodeSteps; step += 1) {
        inference.observe("decode", meanStep);
        forward.observe("decode", meanStep);
      }
    },
  };
}

/** A histogram labelled by method whose observations are buffered until it is scraped. */
function methodHistogram(configuration: {
  name: string;
  help: string;
  buckets: number[];
  registers: Registry[];
}): MethodHistogram {
  const pending: Record<Method, number[]> = { prefill: [], decode: [] };
  const histogram: Histogram<"method"> = new Histogram({
    ...configuration,
    labelNames: ["method"] as const,
    collect() {
      flush();
    },
  });
  for (const method of METHODS) histogram.zero({ method });
  function flush(): void {
    for (const method of METHODS) {
      const values = pending[method];
      if (values.length === 0) continue;
      const labelled = histogram.labels({ method });
      for (const value of values) labelled.observe(value);
      values.length = 0;
    }
  }
  return {
    observe(method, seconds) {
      const values = pending[method];
      values.push(seconds);
      if (values.length >= BUFFER) flush();
    },
  };
}
