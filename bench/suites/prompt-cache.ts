/**
 * `npm run bench -- prompt-cache [options]`: time to first token of RAG-shaped requests (a long
 * prompt prefix shared by every request, ≈ 1,000 tokens, then ≈ 50 tokens of its own) with the
 * prompt cache and without it (`cache_prompt: false`), on serve-llm (its own process, streaming
 * `/v1/completions`) and the generated ~66M-parameter F16 model. Requests alternate between the two
 * modes on the same server, one client, so both see the same machine load. Target: TTFT without ÷
 * with ≥ 3 (issue 15). Greedy, ignore_eos, token ids below 300 banned (random weights emit invalid
 * UTF-8).
 *
 * With --vs-llama-server, llama.cpp's llama-server (built once from the llama.cpp source
 * node-llama-cpp ships, never downloaded; bench/support/llama-server.ts) runs beside it with the same
 * model, slots, threads and context, and gets the same cached-prefix requests with its
 * `cache_prompt: true`, alternating with ours: TTFT and tokens/s (max-tokens ÷ request latency),
 * ours ÷ llama-server, target ≥ 1.0 (issue 15).
 *
 * options: --prefix-tokens 1000  --suffix-tokens 50  --requests 10  --max-tokens 8  --threads 2
 *          --parallel 4  --context-size 2048  --model <gguf>  --serve-args "<extra flags>"
 *          --vs-llama-server  --prebuilt (side by side: skip npm run build:llama)  --json
 */
import { tinyModelPath } from "../../src/gguf/index.js";
import { freePort } from "../../src/testing/free-port.js";
import { type LlmBenchOptions, llmBenchOptions, parseBenchOptions, positiveInteger } from "../support/bench-options.js";
import { banTokensBelow, makePrompts, percentiles } from "../support/completion-load.js";
import { type ManagedServer, startLlamaServer } from "../support/llama-server.js";
import { ensureSideBySideBuilds } from "../support/local-llama-build.js";
import { startServeLlm } from "../support/serve-llm.js";

export const name = "prompt-cache";
export const description =
  "TTFT of RAG-shaped requests (≈1,000-token shared prefix + ≈50 new) with and without the prompt cache";

const SHARED = [
  "maxTokens",
  "threads",
  "parallel",
  "contextSize",
  "model",
  "serveArgs",
  "vsLlamaServer",
  "prebuilt",
  "json",
] as const;
type Options = Pick<LlmBenchOptions, (typeof SHARED)[number]> & {
  prefixTokens: number;
  suffixTokens: number;
  requests: number;
};

function parseOptions(args: string[]): Options {
  const shared = llmBenchOptions(...SHARED);
  return parseBenchOptions<Options>(
    args,
    { ...shared.defaults, maxTokens: 8, contextSize: 2048, prefixTokens: 1000, suffixTokens: 50, requests: 10 },
    {
      "--prefix-tokens": ["prefixTokens", positiveInteger],
      "--suffix-tokens": ["suffixTokens", positiveInteger],
      "--requests": ["requests", positiveInteger],
      ...shared.flags,
    },
  );
}

type Body = Record<string, unknown>;

async function promptTokens(url: string, prompt: string): Promise<number> {
  const response = await fetch(`${url}/v1/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ prompt, max_tokens: 1, cache_prompt: false }),
  });
  if (!response.ok) throw new Error(`calibration failed: ${response.status} ${await response.text()}`);
  const json = (await response.json()) as { usage: { prompt_tokens: number } };
  return json.usage.prompt_tokens;
}

/** Words of the bench prompt vocabulary that make about `tokens` tokens (measured, then scaled). */
async function textOfTokens(url: string, tokens: number, seed: number): Promise<string> {
  const probeWords = 200;
  const probe = await promptTokens(url, makePrompts(1, probeWords, seed)[0] ?? "");
  const words = Math.max(1, Math.round((tokens * probeWords) / probe));
  return makePrompts(1, words, seed)[0] ?? "";
}

/** ms from sending to the first streamed text; with `timing`, also the whole request's ms. */
async function timeToFirstToken(url: string, body: Body, timing?: { totalMs: number }): Promise<number> {
  const started = performance.now();
  const response = await fetch(`${url}/v1/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "text/event-stream" },
    body: JSON.stringify({ ...body, stream: true }),
  });
  if (!response.ok || response.body === null) {
    throw new Error(`request failed: ${response.status} ${await response.text()}`);
  }
  let first: number | undefined;
  const decoder = new TextDecoder();
  let buffered = "";
  for await (const chunk of response.body) {
    buffered += decoder.decode(chunk as Uint8Array, { stream: true });
    if (first === undefined && /"text":"[^"]/.test(buffered)) first = performance.now() - started;
  }
  if (first === undefined) throw new Error("no text was streamed");
  if (timing !== undefined) timing.totalMs = performance.now() - started;
  return first;
}

export async function run(args: string[]): Promise<void> {
  const options = parseOptions(args);
  const binary = await ensureSideBySideBuilds(options, (message) => process.stderr.write(`${message}\n`));
  const modelPath = options.model ?? (await tinyModelPath("bench-66m"));
  const server = await startServeLlm({
    modelPath,
    parallel: options.parallel,
    threads: options.threads,
    contextSize: options.contextSize,
    extraArgs: ["--max-input-tokens", String(options.contextSize - options.maxTokens - 1), ...options.serveArgs],
  });
  let llamaServer: ManagedServer | undefined;
  try {
    if (binary !== undefined) {
      llamaServer = await startLlamaServer({
        binary,
        modelPath,
        port: await freePort(),
        parallel: options.parallel,
        threads: options.threads,
        contextPerSlot: options.contextSize,
      });
    }
    const prefix = await textOfTokens(server.url, options.prefixTokens, 11);
    const suffixes: string[] = [];
    for (let index = 0; index < options.requests; index += 1) {
      suffixes.push(await textOfTokens(server.url, options.suffixTokens, 100 + index));
    }
    const common = {
      max_tokens: options.maxTokens,
      temperature: 0,
      ignore_eos: true,
      logit_bias: banTokensBelow(300),
    };
    const prefixTokens = await promptTokens(server.url, prefix);
    // Warm-up: the prefix enters a sequence's cache; both modes then run once unmeasured.
    await timeToFirstToken(server.url, { ...common, prompt: `${prefix} ${suffixes[0]}` });
    if (llamaServer !== undefined) {
      await timeToFirstToken(llamaServer.url, { ...common, prompt: `${prefix} ${suffixes[0]}`, cache_prompt: true });
    }
    const cached: number[] = [];
    const uncached: number[] = [];
    const oursTokensPerSecond: number[] = [];
    const llamaTtft: number[] = [];
    const llamaTokensPerSecond: number[] = [];
    const tokensPerSecond = (totalMs: number): number => options.maxTokens / (totalMs / 1000);
    for (let index = 0; index < options.requests; index += 1) {
      const prompt = `${prefix} ${suffixes[index]}`;
      // Alternating order, so that neither mode (nor server) always runs first.
      const order = index % 2 === 0 ? ["cached", "uncached", "llama"] : ["llama", "uncached", "cached"];
      for (const mode of order) {
        const timing = { totalMs: Number.NaN };
        if (mode === "llama") {
          if (llamaServer === undefined) continue;
          llamaTtft.push(await timeToFirstToken(llamaServer.url, { ...common, prompt, cache_prompt: true }, timing));
          llamaTokensPerSecond.push(tokensPerSecond(timing.totalMs));
          continue;
        }
        const cache = mode === "cached";
        const ms = await timeToFirstToken(server.url, { ...common, prompt, cache_prompt: cache }, timing);
        (cache ? cached : uncached).push(ms);
        if (cache) oursTokensPerSecond.push(tokensPerSecond(timing.totalMs));
      }
    }
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    const servedFromCache = Number(/^llm_twin_prompt_tokens_cached_total (\S+)/m.exec(metrics)?.[1] ?? Number.NaN);
    const withCache = percentiles(cached);
    const without = percentiles(uncached);
    const oursRate = percentiles(oursTokensPerSecond);
    const llama =
      llamaServer === undefined
        ? undefined
        : { ttftMs: percentiles(llamaTtft), tokensPerSecond: percentiles(llamaTokensPerSecond) };
    const result = {
      model: modelPath,
      prefixTokens,
      suffixTokens: options.suffixTokens,
      requests: options.requests,
      ttftWithCacheMs: withCache,
      ttftWithoutCacheMs: without,
      speedupMean: without.mean / withCache.mean,
      speedupP50: without.p50 / withCache.p50,
      promptTokensServedFromCache: servedFromCache,
      tokensPerSecondWithCache: oursRate,
      ...(llama === undefined
        ? {}
        : {
            llamaServer: llama,
            // > 1: ours is faster (TTFT: llama-server's ÷ ours; tokens/s: ours ÷ llama-server's).
            oursOverLlamaServer: {
              ttftP50: llama.ttftMs.p50 / withCache.p50,
              ttftMean: llama.ttftMs.mean / withCache.mean,
              tokensPerSecondMean: oursRate.mean / llama.tokensPerSecond.mean,
            },
          }),
    };
    if (options.json) {
      process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
      return;
    }
    const format = (value: number): string => value.toFixed(1);
    process.stdout.write(
      [
        `prompt-cache: ${prefixTokens}-token shared prefix + ~${options.suffixTokens} tokens, ${options.requests} requests per mode, 1 client`,
        `  TTFT with cache    p50 ${format(withCache.p50)} ms  p95 ${format(withCache.p95)} ms  mean ${format(withCache.mean)} ms`,
        `  TTFT without cache p50 ${format(without.p50)} ms  p95 ${format(without.p95)} ms  mean ${format(without.mean)} ms`,
        `  without ÷ with: ${result.speedupP50.toFixed(2)}× (p50), ${result.speedupMean.toFixed(2)}× (mean); target ≥ 3`,
        `  prompt tokens served from cache (llm_twin_prompt_tokens_cached_total): ${servedFromCache}`,
        ...(llama === undefined || result.oursOverLlamaServer === undefined
          ? []
          : [
              `  llama-server (cache_prompt: true) TTFT p50 ${format(llama.ttftMs.p50)} ms  mean ${format(llama.ttftMs.mean)} ms  ${format(llama.tokensPerSecond.mean)} tok/s (ours with cache: ${format(oursRate.mean)} tok/s)`,
              `  ours ÷ llama-server: TTFT ${result.oursOverLlamaServer.ttftP50.toFixed(2)} (p50), ${result.oursOverLlamaServer.ttftMean.toFixed(2)} (mean); tok/s ${result.oursOverLlamaServer.tokensPerSecondMean.toFixed(2)}; target ≥ 1.0 (> 1 = ours faster)`,
            ]),
        "",
      ].join("\n"),
    );
  } finally {
    await llamaServer?.stop();
    await server.stop();
  }
}
