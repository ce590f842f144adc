/**
 * A load generator for OpenAI-compatible servers (`POST /v1/completions`, streaming): the same
 * client drives llama.cpp's llama-server and llm-twin's serve-llm, so both are measured alike.
 * Per request it records the time to the first streamed token, the total latency and the number of
 * generated tokens; per run, the total generated tokens per second of wall time.
 */

import { createRandom } from "../../src/gguf/random.js";

export type CompletionSettings = {
  maxTokens: number;
  /** OpenAI-style bias map, token id → bias (−100 bans). */
  logitBias: Record<string, number>;
  model?: string;
  timeoutMs?: number;
  /** More body fields, e.g. llama-server's per-request `lora: [{id, scale}]`. */
  extraBody?: Record<string, unknown>;
};

export type RequestResult = {
  ok: boolean;
  status: number;
  error?: string;
  /** ms from sending the request to the first streamed text. */
  timeToFirstTokenMs: number | undefined;
  latencyMs: number;
  completionTokens: number;
};

export type Percentiles = { p50: number; p95: number; mean: number };

export type LoadResult = {
  concurrency: number;
  requests: number;
  failed: number;
  wallSeconds: number;
  completionTokens: number;
  tokensPerSecond: number;
  timeToFirstTokenMs: Percentiles;
  latencyMs: Percentiles;
  /** Per successful request, for pooling percentiles across runs. */
  samples: { ttft: number[]; latency: number[] };
  firstError?: string;
};

/** A banned-token map for ids [0, below): random-weight models emit byte tokens that are invalid UTF-8. */
export function banTokensBelow(below: number): Record<string, number> {
  const bias: Record<string, number> = {};
  for (let id = 0; id < below; id += 1) bias[String(id)] = -100;
  return bias;
}

/**
 * Every mode once per round, the order rotating by one each round so that no mode always runs first
 * or after the same one; each run gets its own seed (round × 100 + its position in the round). What
 * `measure` returns is summed per mode.
 */
export async function sumOverRotatingRounds<Mode, Figure extends string>(
  modes: readonly Mode[],
  rounds: number,
  measure: (mode: Mode, seed: number) => Promise<Record<Figure, number>>,
): Promise<Map<Mode, Record<Figure, number>>> {
  const totals = new Map<Mode, Record<Figure, number>>();
  for (let round = 0; round < rounds; round += 1) {
    for (let position = 0; position < modes.length; position += 1) {
      const mode = modes[(position + round) % modes.length] as Mode;
      const figures = await measure(mode, round * 100 + position);
      const total = totals.get(mode);
      if (total === undefined) totals.set(mode, { ...figures });
      else for (const key of Object.keys(figures) as Figure[]) total[key] += figures[key];
    }
  }
  return totals;
}

/**
 * Tokens per second of each mode, one client: an untimed warm-up request of the first mode, then
 * sumOverRotatingRounds with a fresh `promptWords`-word prompt per request (no prompt-cache
 * advantage); `timed` gives the generated tokens and wall ms of one mode's request(s).
 */
export async function tokensPerSecondByMode<Mode>(
  modes: readonly Mode[],
  options: { rounds: number; promptWords: number },
  timed: (mode: Mode, prompt: string) => Promise<{ tokens: number; ms: number }>,
): Promise<(mode: Mode) => number> {
  const prompt = (seed: number): string => makePrompts(1, options.promptWords, seed)[0] ?? "";
  await timed(modes[0] as Mode, prompt(999));
  const totals = await sumOverRotatingRounds(modes, options.rounds, (mode, seed) => timed(mode, prompt(seed)));
  return (mode) => {
    const total = totals.get(mode) ?? { tokens: 0, ms: 1 };
    return (total.tokens * 1000) / total.ms;
  };
}

const PROMPT_WORDS = `the model writes an article about data pipeline feature training inference retrieval context
token prompt chat system user document chunk embedding vector search query answer author content engineer
machine learning deep network neural layer weight sample generate write read clean split merge index filter
hybrid dense lexical rank score fast small large test value number list name text word code python node
server client request response stream batch queue error limit`.split(/\s+/);

/** `count` different prompts of `words` words each, deterministic for a seed. */
export function makePrompts(count: number, words: number, seed: number): string[] {
  const random = createRandom(seed);
  return Array.from({ length: count }, () =>
    Array.from({ length: words }, () => PROMPT_WORDS[Math.floor(random() * PROMPT_WORDS.length)]).join(" "),
  );
}

export function percentiles(values: readonly number[]): Percentiles {
  if (values.length === 0) return { p50: Number.NaN, p95: Number.NaN, mean: Number.NaN };
  const sorted = [...values].sort((a, b) => a - b);
  const at = (quantile: number): number => {
    const position = (sorted.length - 1) * quantile;
    const lower = Math.floor(position);
    const upper = Math.ceil(position);
    const low = sorted[lower] ?? Number.NaN;
    const high = sorted[upper] ?? Number.NaN;
    return low + (high - low) * (position - lower);
  };
  return { p50: at(0.5), p95: at(0.95), mean: sorted.reduce((sum, value) => sum + value, 0) / sorted.length };
}

type StreamEvent = {
  choices?: { text?: string }[];
  usage?: { completion_tokens?: number } | null;
  timings?: { predicted_n?: number };
};

/**
 * fetch, sent again (up to 8 attempts) when the keep-alive socket it went out on was closed by the
 * server before any response (undici's UND_ERR_SOCKET "other side closed", ECONNRESET): llama-server closes idle
 * connections after a few seconds, and the side-by-side suites leave it idle while they measure
 * the other server. Nothing reached the server, so nothing is generated twice.
 */
async function fetchOnFreshSocket(url: string, init: RequestInit): Promise<Response> {
  // Every idle socket of the pool may be stale: each failed attempt discards one.
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await fetch(url, init);
    } catch (error) {
      const code = (error as { cause?: { code?: string } }).cause?.code;
      if ((code !== "UND_ERR_SOCKET" && code !== "ECONNRESET") || attempt >= 8) throw error;
    }
  }
}

/** One streaming completion; never throws (failures are results). */
export async function streamCompletion(
  baseUrl: string,
  prompt: string,
  settings: CompletionSettings,
): Promise<RequestResult> {
  const started = performance.now();
  let timeToFirstTokenMs: number | undefined;
  let textEvents = 0;
  let reportedTokens: number | undefined;
  try {
    const response = await fetchOnFreshSocket(`${baseUrl}/v1/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "text/event-stream" },
      body: JSON.stringify({
        model: settings.model ?? "bench",
        prompt,
        max_tokens: settings.maxTokens,
        temperature: 0,
        stream: true,
        stream_options: { include_usage: true },
        ignore_eos: true,
        logit_bias: settings.logitBias,
        ...settings.extraBody,
      }),
      signal: AbortSignal.timeout(settings.timeoutMs ?? 300_000),
    });
    if (!response.ok || response.body === null) {
      const text = await response.text().catch(() => "");
      return {
        ok: false,
        status: response.status,
        error: `HTTP ${response.status}: ${text.slice(0, 300)}`,
        timeToFirstTokenMs: undefined,
        latencyMs: performance.now() - started,
        completionTokens: 0,
      };
    }
    const decoder = new TextDecoder();
    let buffer = "";
    for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true });
      for (let boundary = buffer.indexOf("\n\n"); boundary !== -1; boundary = buffer.indexOf("\n\n")) {
        const frame = buffer.slice(0, boundary);
        buffer = buffer.slice(boundary + 2);
        for (const line of frame.split("\n")) {
          if (!line.startsWith("data:")) continue;
          const data = line.slice(5).trim();
          if (data === "[DONE]" || data === "") continue;
          const event = JSON.parse(data) as StreamEvent;
          const text = event.choices?.[0]?.text;
          if (typeof text === "string" && text.length > 0) {
            textEvents += 1;
            timeToFirstTokenMs ??= performance.now() - started;
          }
          const usage = event.usage?.completion_tokens ?? event.timings?.predicted_n;
          if (typeof usage === "number") reportedTokens = usage;
        }
      }
    }
    return {
      ok: true,
      status: response.status,
      timeToFirstTokenMs,
      latencyMs: performance.now() - started,
      completionTokens: reportedTokens ?? textEvents,
    };
  } catch (error) {
    return {
      ok: false,
      status: 0,
      error: describeFailure(error),
      timeToFirstTokenMs,
      latencyMs: performance.now() - started,
      completionTokens: reportedTokens ?? textEvents,
    };
  }
}

/** undici's "fetch failed" with what is behind it (ECONNRESET, "other side closed", …). */
function describeFailure(error: unknown): string {
  const message = (error as Error).message;
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  if (cause === undefined) return message;
  return `${message}: ${[cause.code, cause.message].filter((part) => part !== undefined).join(" ")}`;
}

/** Sends every prompt, `concurrency` at a time (each worker starts its next request when one ends). */
export async function runLoad(
  baseUrl: string,
  prompts: readonly string[],
  concurrency: number,
  settings: CompletionSettings,
): Promise<LoadResult> {
  const results: RequestResult[] = [];
  let next = 0;
  const started = performance.now();
  const worker = async (): Promise<void> => {
    while (next < prompts.length) {
      const prompt = prompts[next] ?? "";
      next += 1;
      results.push(await streamCompletion(baseUrl, prompt, settings));
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, prompts.length) }, worker));
  const wallSeconds = (performance.now() - started) / 1000;
  const succeeded = results.filter((result) => result.ok);
  const completionTokens = succeeded.reduce((sum, result) => sum + result.completionTokens, 0);
  const failure = results.find((result) => !result.ok);
  const ttft = succeeded
    .map((result) => result.timeToFirstTokenMs)
    .filter((value): value is number => value !== undefined);
  const latency = succeeded.map((result) => result.latencyMs);
  return {
    concurrency,
    requests: results.length,
    failed: results.length - succeeded.length,
    wallSeconds,
    completionTokens,
    tokensPerSecond: completionTokens / wallSeconds,
    timeToFirstTokenMs: percentiles(ttft),
    latencyMs: percentiles(latency),
    samples: { ttft, latency },
    ...(failure?.error === undefined ? {} : { firstError: failure.error }),
  };
}
