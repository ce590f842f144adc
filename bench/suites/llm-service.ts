/**
 * `npm run bench -- llm-service [options]`: the LLM microservice (`serve-llm`, its own process,
 * streaming /v1/completions) against node-llama-cpp driven directly in-process on the same work,
 * on the generated ~66M-parameter F16 model: tokens/s and time to first token at each concurrency,
 * the batching gain (tok/s at 4 ÷ at 1) and service ÷ in-process. Greedy, ignore_eos, token ids
 * below 300 banned (random weights emit invalid UTF-8 byte tokens).
 *
 * options: --threads 2  --parallel 4  --max-tokens 64  --prompt-words 32  --requests-per-client 4
 *          --concurrency 1,2,4,8  --context-size 512  --model <gguf>  --serve-args "<extra flags>"
 *          --skip-in-process  --skip-service  --skip-overload  --json
 *          --prebuilt (skip building llama.cpp for this machine and the native loop first; see
 *          support/local-llama-build.ts)
 *
 * The overload phase starts serve-llm with its default queue limits and measures TTFT, queue wait
 * and latency p99 of admitted requests with twice as many clients as it admits, against the
 * p99 without overload at the concurrency limit (`--max-concurrent-requests` clients; target ≤ 2×;
 * the excess must get 429 at once); the ratio to the p99 at `--parallel` clients is reported too.
 */
import os from "node:os";
import { getLlama, type LlamaContextSequence, type Token, TokenBias } from "node-llama-cpp";
import { tinyModelPath } from "../../src/gguf/index.js";
import { createAdmission } from "../../src/llm/llama-cpp/admission.js";
import { type LlmBenchOptions, llmBenchOptions, parseBenchOptions, switchOn } from "../support/bench-options.js";
import { banTokensBelow, type LoadResult, makePrompts, percentiles, runLoad } from "../support/completion-load.js";
import { measureOverload, type OverloadResult, queueMetrics } from "../support/llm-overload.js";
import { ensureServingBuilds } from "../support/local-llama-build.js";
import { processCpuSeconds } from "../support/process-cpu.js";
import { startServeLlm } from "../support/serve-llm.js";

export const name = "llm-service";
export const description =
  "serve-llm tok/s and TTFT at concurrency 1/2/4/8, batching gain, service ÷ in-process node-llama-cpp";

const SHARED = [
  "threads",
  "parallel",
  "maxTokens",
  "promptWords",
  "requestsPerClient",
  "concurrency",
  "contextSize",
  "model",
  "serveArgs",
  "json",
  "prebuilt",
] as const;
type Options = Pick<LlmBenchOptions, (typeof SHARED)[number]> & {
  skipInProcess: boolean;
  skipService: boolean;
  skipOverload: boolean;
};

type Measurement = {
  concurrency: number;
  tokensPerSecond: number;
  ttftP50: number;
  ttftP95: number;
  latencyP50: number;
  requests: number;
  failed: number;
  /** CPU time (all threads of the serving process) per generated token: robust to other load. */
  cpuMsPerToken: number;
  /** Service only: mean wait for a free sequence, from its own metrics. */
  queueWaitMs?: number;
};

function ownCpuMs(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
}

function parseOptions(args: readonly string[]): Options {
  const shared = llmBenchOptions(...SHARED);
  return parseBenchOptions<Options>(
    args,
    {
      ...shared.defaults,
      requestsPerClient: 4,
      concurrency: [1, 2, 4, 8],
      skipInProcess: false,
      skipService: false,
      skipOverload: false,
    },
    {
      "--skip-in-process": ["skipInProcess", switchOn],
      "--skip-service": ["skipService", switchOn],
      "--skip-overload": ["skipOverload", switchOn],
      ...shared.flags,
    },
  );
}

function fromLoad(result: LoadResult, cpuMs: number): Measurement {
  return {
    cpuMsPerToken: cpuMs / Math.max(1, result.completionTokens),
    concurrency: result.concurrency,
    tokensPerSecond: result.tokensPerSecond,
    ttftP50: result.timeToFirstTokenMs.p50,
    ttftP95: result.timeToFirstTokenMs.p95,
    latencyP50: result.latencyMs.p50,
    requests: result.requests,
    failed: result.failed,
  };
}

function startService(options: Options, modelPath: string, limits: string[]) {
  return startServeLlm({
    modelPath,
    parallel: options.parallel,
    threads: options.threads,
    contextSize: options.contextSize,
    extraArgs: [...limits, ...options.serveArgs],
    timeoutMs: 300_000,
  });
}

/** serve-llm with its default queue limits, driven past them (see bench/support/llm-overload.ts). */
async function measureOverloadPhase(options: Options, modelPath: string): Promise<OverloadResult> {
  const server = await startService(options, modelPath, []);
  try {
    const info = (await (await fetch(`${server.url}/info`)).json()) as { max_concurrent_requests?: number };
    const settings = { maxTokens: options.maxTokens, logitBias: banTokensBelow(300) };
    await runLoad(server.url, makePrompts(2, options.promptWords, 99), 2, settings);
    const result = await measureOverload(server.url, {
      parallel: options.parallel,
      maxConcurrentRequests: info.max_concurrent_requests ?? options.parallel * 2,
      requests: options.parallel * options.requestsPerClient,
      promptWords: options.promptWords,
      settings,
    });
    log(
      options,
      `overload   ${result.clients} clients, limit ${result.maxConcurrentRequests}: admitted p99 ${result.overloaded.latencyMs.p99.toFixed(0)} ms vs p99 at the limit without overload ${result.unloaded.latencyP99Ms.toFixed(0)} ms (×${result.p99Ratio.toFixed(2)}; ×${result.p99RatioToParallel.toFixed(2)} of the p99 at ${result.parallel} clients), TTFT p50/p95 ${result.overloaded.ttftMs.p50.toFixed(0)}/${result.overloaded.ttftMs.p95.toFixed(0)} ms, queue wait ${result.overloaded.queueWaitMeanMs?.toFixed(0) ?? "-"} ms, ${result.overloaded.rejected429} × 429 (p99 ${result.overloaded.rejectionP99Ms.toFixed(1)} ms)`,
    );
    return result;
  } finally {
    await server.stop();
  }
}

async function measureService(options: Options, modelPath: string): Promise<Measurement[]> {
  const server = await startService(options, modelPath, ["--max-queue", "64", "--max-concurrent-requests", "128"]);
  try {
    const settings = { maxTokens: options.maxTokens, logitBias: banTokensBelow(300) };
    await runLoad(server.url, makePrompts(2, options.promptWords, 99), 2, settings);
    const results: Measurement[] = [];
    for (const concurrency of options.concurrency) {
      const prompts = makePrompts(concurrency * options.requestsPerClient, options.promptWords, concurrency);
      const pid = server.process.pid ?? 0;
      const queueBefore = await queueMetrics(server.url);
      const cpuBefore = await processCpuSeconds(pid);
      const load = await runLoad(server.url, prompts, concurrency, settings);
      const result = fromLoad(load, ((await processCpuSeconds(pid)) - cpuBefore) * 1000);
      const queueAfter = await queueMetrics(server.url);
      if (queueBefore !== undefined && queueAfter !== undefined) {
        const waits = queueAfter.count - queueBefore.count;
        result.queueWaitMs = waits > 0 ? ((queueAfter.sum - queueBefore.sum) * 1000) / waits : 0;
      }
      log(
        options,
        `service    c=${concurrency}: ${result.tokensPerSecond.toFixed(1)} tok/s, TTFT p50 ${result.ttftP50.toFixed(1)} ms, queue wait ${result.queueWaitMs?.toFixed(1) ?? "-"} ms, ${result.cpuMsPerToken.toFixed(2)} CPU ms/token`,
      );
      if (result.failed > 0) log(options, `  ${result.failed} failed`);
      results.push(result);
    }
    return results;
  } finally {
    await server.stop();
  }
}

/** node-llama-cpp used directly: one context, `parallel` sequences, evaluate() per request. */
async function measureInProcess(options: Options, modelPath: string): Promise<Measurement[]> {
  const llama = await getLlama({ gpu: false, build: "never", maxThreads: options.threads, logLevel: "error" as never });
  const model = await llama.loadModel({ modelPath, gpuLayers: 0 });
  const context = await model.createContext({
    contextSize: options.contextSize,
    sequences: options.parallel,
    threads: options.threads,
  });
  const sequences: LlamaContextSequence[] = Array.from({ length: options.parallel }, () => context.getSequence());
  const bias = new TokenBias(model.tokenizer);
  for (let id = 0; id < 300; id += 1) bias.set(id as Token, "never");
  const biases = (bias as unknown as { _biases: Map<number, number> })._biases;
  for (const token of [model.tokens.eos, model.tokens.eot])
    if (token !== null) biases.set(token, Number.NEGATIVE_INFINITY);
  const bos = model.tokens.bos;

  async function generate(prompt: string, pool: ReturnType<typeof createAdmission<LlamaContextSequence>>) {
    const started = performance.now();
    const sequence = await pool.acquire();
    let ttft = Number.NaN;
    let count = 0;
    try {
      const tokens = model.tokenize(prompt, true);
      if (bos !== null) tokens.unshift(bos);
      for await (const _token of sequence.evaluate(tokens, { temperature: 0, tokenBias: bias })) {
        if (count === 0) ttft = performance.now() - started;
        count += 1;
        if (count >= options.maxTokens) break;
      }
    } finally {
      await sequence.clearHistory();
      pool.release(sequence);
    }
    return { ttft, latency: performance.now() - started, count };
  }

  const results: Measurement[] = [];
  try {
    const warm = createAdmission(sequences, { slots: options.parallel, maxQueue: 1000, maxConcurrentRequests: 1000 });
    await Promise.all(makePrompts(2, options.promptWords, 99).map((prompt) => generate(prompt, warm)));
    for (const concurrency of options.concurrency) {
      const pool = createAdmission(sequences, { slots: options.parallel, maxQueue: 1000, maxConcurrentRequests: 1000 });
      const prompts = makePrompts(concurrency * options.requestsPerClient, options.promptWords, concurrency);
      let next = 0;
      const samples: Array<{ ttft: number; latency: number; count: number }> = [];
      const cpuBefore = ownCpuMs();
      const started = performance.now();
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          while (next < prompts.length) {
            const prompt = prompts[next] ?? "";
            next += 1;
            samples.push(await generate(prompt, pool));
          }
        }),
      );
      const wall = (performance.now() - started) / 1000;
      const generated = samples.reduce((sum, sample) => sum + sample.count, 0);
      const ttft = percentiles(samples.map((sample) => sample.ttft));
      const result: Measurement = {
        concurrency,
        tokensPerSecond: generated / wall,
        cpuMsPerToken: (ownCpuMs() - cpuBefore) / Math.max(1, generated),
        ttftP50: ttft.p50,
        ttftP95: ttft.p95,
        latencyP50: percentiles(samples.map((sample) => sample.latency)).p50,
        requests: samples.length,
        failed: 0,
      };
      log(
        options,
        `in-process c=${concurrency}: ${result.tokensPerSecond.toFixed(1)} tok/s, TTFT p50 ${result.ttftP50.toFixed(1)} ms, ${result.cpuMsPerToken.toFixed(2)} CPU ms/token`,
      );
      results.push(result);
    }
  } finally {
    await context.dispose();
    await model.dispose();
    await llama.dispose();
  }
  return results;
}

function log(options: Options, line: string): void {
  if (!options.json) process.stderr.write(`${line}\n`);
}

export async function run(args: string[]): Promise<void> {
  const options = parseOptions(args);
  const modelPath = options.model ?? (await tinyModelPath("bench-66m"));
  if (!options.prebuilt) await ensureServingBuilds((line) => log(options, line));
  log(
    options,
    `model ${modelPath}; threads ${options.threads}, parallel ${options.parallel}, ${options.maxTokens} new tokens, ${options.promptWords}-word prompts; load average ${os.loadavg()[0]?.toFixed(2)}`,
  );
  const service = options.skipService ? [] : await measureService(options, modelPath);
  const inProcess = options.skipInProcess ? [] : await measureInProcess(options, modelPath);
  const overload = options.skipOverload ? undefined : await measureOverloadPhase(options, modelPath);
  const at = (rows: Measurement[], concurrency: number) => rows.find((row) => row.concurrency === concurrency);
  const gain = (rows: Measurement[]) => {
    const one = at(rows, 1);
    const four = at(rows, 4);
    return one === undefined || four === undefined ? undefined : four.tokensPerSecond / one.tokensPerSecond;
  };
  const ratios = options.concurrency.map((concurrency) => {
    const ours = at(service, concurrency);
    const direct = at(inProcess, concurrency);
    return {
      concurrency,
      serviceOverInProcess: ours && direct ? ours.tokensPerSecond / direct.tokensPerSecond : undefined,
    };
  });
  const report = {
    model: modelPath,
    options: { ...options, model: undefined },
    loadAverage: os.loadavg(),
    service,
    inProcess,
    batchingGain: { service: gain(service), inProcess: gain(inProcess) },
    ratios,
    overload,
  };
  if (options.json) {
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    return;
  }
  const lines = [
    "| concurrency | service tok/s | service TTFT p50 / p95 (ms) | queue wait (ms) | service CPU ms/token | in-process tok/s | in-process TTFT p50 (ms) | in-process CPU ms/token | service ÷ in-process (tok/s) |",
    "|---|---|---|---|---|---|---|---|---|",
    ...options.concurrency.map((concurrency) => {
      const ours = at(service, concurrency);
      const direct = at(inProcess, concurrency);
      const ratio = ratios.find((row) => row.concurrency === concurrency)?.serviceOverInProcess;
      return `| ${concurrency} | ${ours?.tokensPerSecond.toFixed(1) ?? "-"} | ${ours ? `${ours.ttftP50.toFixed(1)} / ${ours.ttftP95.toFixed(1)}` : "-"} | ${ours?.queueWaitMs?.toFixed(1) ?? "-"} | ${ours?.cpuMsPerToken.toFixed(2) ?? "-"} | ${direct?.tokensPerSecond.toFixed(1) ?? "-"} | ${direct?.ttftP50.toFixed(1) ?? "-"} | ${direct?.cpuMsPerToken.toFixed(2) ?? "-"} | ${ratio?.toFixed(2) ?? "-"} |`;
    }),
    "",
    `batching gain (tok/s at 4 ÷ at 1): service ${report.batchingGain.service?.toFixed(2) ?? "-"}, in-process ${report.batchingGain.inProcess?.toFixed(2) ?? "-"}`,
    ...(overload === undefined
      ? []
      : [
          `overload (${overload.clients} clients, ${overload.parallel} sequences, ${overload.maxConcurrentRequests} admitted): ` +
            `admitted latency p99 ${overload.overloaded.latencyMs.p99.toFixed(0)} ms = ${overload.p99Ratio.toFixed(2)} × the p99 without overload at the limit (${overload.maxConcurrentRequests} clients, ${overload.unloaded.latencyP99Ms.toFixed(0)} ms), ${overload.p99RatioToParallel.toFixed(2)} × the p99 at ${overload.parallel} clients (${overload.atParallel.latencyP99Ms.toFixed(0)} ms); ` +
            `TTFT p50 / p95 / p99 ${overload.overloaded.ttftMs.p50.toFixed(0)} / ${overload.overloaded.ttftMs.p95.toFixed(0)} / ${overload.overloaded.ttftMs.p99.toFixed(0)} ms; ` +
            `mean queue wait ${overload.overloaded.queueWaitMeanMs?.toFixed(0) ?? "-"} ms; ${overload.overloaded.rejected429} refused with 429 (p99 ${overload.overloaded.rejectionP99Ms.toFixed(1)} ms), ${overload.overloaded.otherFailures} other failures`,
        ]),
    `load average at start ${os.loadavg()[0]?.toFixed(2)} (other processes on the machine distort tok/s; CPU ms/token is robust to them)`,
  ];
  process.stdout.write(`${lines.join("\n")}\n`);
}
