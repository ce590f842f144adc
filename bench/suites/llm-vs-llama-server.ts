/**
 * `npm run bench -- llm-vs-llama-server [--json] [options]`
 *
 * llm-twin's `serve-llm` side by side with llama.cpp's own `llama-server` (built once from the
 * llama.cpp source node-llama-cpp ships) on the generated ~66M-parameter F16 model: the same
 * streaming OpenAI client (`/v1/completions`) drives both, alternating runs, at each concurrency;
 * same prompts (~32 words), same number of new tokens, greedy, token ids < 300 banned with
 * logit_bias (random weights emit invalid UTF-8 byte tokens). Reports tokens/s, time to first token
 * and p50/p95 latency per server and concurrency, and ours ÷ llama-server.
 *
 * Before the measured runs each server gets one untimed warm-up run (`--warmup-requests-per-slot`
 * requests per slot): JIT tiers, page cache and CPU caches settle on both sides alike, so the
 * first measured run is not the one that pays for them.
 *
 * Options: --concurrency 1,4,8  --runs 4  --requests-per-slot 6  --warmup-requests-per-slot 2
 *          --max-tokens 64  --prompt-words 32
 *          --threads 2  --context-per-slot 512  --model <gguf> (default: generated bench-66m)
 *          --ours-url <url> / --llama-server-url <url> (drive running servers instead of spawning)
 *          --skip-ours / --skip-llama-server  --ours-args "<extra serve-llm flags>"
 *          --ours-node-args "<node flags, e.g. --cpu-prof --cpu-prof-dir=/tmp/prof>"
 *          --prebuilt (do not build llama.cpp for this machine and the native loop first; by default
 *          the suite runs `npm run build:llama` once so that both servers run kernels compiled alike)
 */

import { availableParallelism } from "node:os";
import { tinyModelPath } from "../../src/gguf/index.js";
import { freePort } from "../../src/testing/free-port.js";
import {
  type LlmBenchOptions,
  llmBenchOptions,
  nonNegativeInteger,
  parseBenchOptions,
  positiveInteger,
  switchOn,
  url,
  words,
} from "../support/bench-options.js";
import {
  banTokensBelow,
  type LoadResult,
  makePrompts,
  percentiles,
  runLoad,
  streamCompletion,
} from "../support/completion-load.js";
import { ensureLlamaServer, type ManagedServer, startLlamaServer } from "../support/llama-server.js";
import { ensureServingBuilds } from "../support/local-llama-build.js";
import { cpuByThread, snapshotThreads } from "../support/process-cpu.js";
import { startServeLlm } from "../support/serve-llm.js";

export const name = "llm-vs-llama-server";
export const description = "serve-llm vs llama.cpp's llama-server: tok/s, TTFT, p50/p95 latency at concurrency 1/4/8";

const SHARED = ["json", "concurrency", "runs", "maxTokens", "promptWords", "threads", "model", "prebuilt"] as const;
type Options = Pick<LlmBenchOptions, (typeof SHARED)[number]> & {
  requestsPerSlot: number;
  warmupRequestsPerSlot: number;
  contextPerSlot: number;
  oursUrl: string | undefined;
  llamaServerUrl: string | undefined;
  skipOurs: boolean;
  skipLlamaServer: boolean;
  oursArgs: string[];
  oursNodeArgs: string[];
};

function parseOptions(args: string[]): Options {
  const shared = llmBenchOptions(...SHARED);
  return parseBenchOptions<Options>(
    args,
    {
      ...shared.defaults,
      runs: 4,
      requestsPerSlot: 6,
      warmupRequestsPerSlot: 2,
      contextPerSlot: 512,
      oursUrl: undefined,
      llamaServerUrl: undefined,
      skipOurs: false,
      skipLlamaServer: false,
      oursArgs: [],
      oursNodeArgs: [],
    },
    {
      "--requests-per-slot": ["requestsPerSlot", positiveInteger],
      "--warmup-requests-per-slot": ["warmupRequestsPerSlot", nonNegativeInteger],
      "--context-per-slot": ["contextPerSlot", positiveInteger],
      "--ours-url": ["oursUrl", url],
      "--llama-server-url": ["llamaServerUrl", url],
      "--skip-ours": ["skipOurs", switchOn],
      "--skip-llama-server": ["skipLlamaServer", switchOn],
      "--ours-args": ["oursArgs", words],
      "--ours-node-args": ["oursNodeArgs", words],
      ...shared.flags,
    },
  );
}

type ServerName = "llama-server" | "ours";

type Target = { name: ServerName; url: string; managed: ManagedServer | undefined };

function startOurs(options: Options, modelPath: string, parallel: number): Promise<ManagedServer> {
  return startServeLlm({
    modelPath,
    parallel,
    threads: options.threads,
    contextSize: options.contextPerSlot,
    extraArgs: options.oursArgs,
    nodeArgs: options.oursNodeArgs,
  });
}

type Row = {
  server: ServerName;
  concurrency: number;
  runs: LoadResult[];
  tokensPerSecond: number;
  timeToFirstTokenMs: { p50: number; p95: number };
  latencyMs: { p50: number; p95: number };
  requests: number;
  failed: number;
  tokensPerRequest: number;
  /** Server CPU milliseconds per generated token, in total and by thread name (when we spawned it). */
  cpuMsPerToken: number | undefined;
  cpuMsPerTokenByThread: Record<string, number>;
};

function summarise(
  server: ServerName,
  concurrency: number,
  runs: LoadResult[],
  raw: RawTimes,
  cpu: Map<string, number>,
): Row {
  const requests = runs.reduce((sum, run) => sum + run.requests, 0);
  const tokens = runs.reduce((sum, run) => sum + run.completionTokens, 0);
  const cpuMsPerTokenByThread: Record<string, number> = {};
  let cpuTotal = 0;
  for (const [thread, seconds] of cpu) {
    cpuMsPerTokenByThread[thread] = (seconds * 1000) / Math.max(1, tokens);
    cpuTotal += seconds;
  }
  const ttft = percentiles(raw.ttft);
  const latency = percentiles(raw.latency);
  return {
    server,
    concurrency,
    runs,
    // Mean of the runs' throughputs: every run has the same work.
    tokensPerSecond: runs.reduce((sum, run) => sum + run.tokensPerSecond, 0) / runs.length,
    timeToFirstTokenMs: { p50: ttft.p50, p95: ttft.p95 },
    latencyMs: { p50: latency.p50, p95: latency.p95 },
    requests,
    failed: runs.reduce((sum, run) => sum + run.failed, 0),
    tokensPerRequest: tokens / Math.max(1, requests - runs.reduce((sum, run) => sum + run.failed, 0)),
    cpuMsPerToken: cpu.size === 0 ? undefined : (cpuTotal * 1000) / Math.max(1, tokens),
    cpuMsPerTokenByThread,
  };
}

type RawTimes = { ttft: number[]; latency: number[] };

export async function run(args: string[]): Promise<void> {
  const options = parseOptions(args);
  const log = (message: string): void => {
    process.stderr.write(`${message}\n`);
  };
  const modelPath = options.model ?? (await tinyModelPath("bench-66m"));
  if (!options.prebuilt && !options.skipOurs && options.oursUrl === undefined) await ensureServingBuilds(log);
  const binary =
    options.skipLlamaServer || options.llamaServerUrl !== undefined
      ? undefined
      : await ensureLlamaServer({ report: log });
  const settings = { maxTokens: options.maxTokens, logitBias: banTokensBelow(300) };
  const rows: Row[] = [];
  let oursRuntime: Record<string, unknown> | undefined;
  let promptSeed = 1000;

  for (const concurrency of options.concurrency) {
    const targets: Target[] = [];
    try {
      if (!options.skipLlamaServer) {
        if (options.llamaServerUrl !== undefined) {
          targets.push({ name: "llama-server", url: options.llamaServerUrl, managed: undefined });
        } else if (binary !== undefined) {
          const managed = await startLlamaServer({
            binary,
            modelPath,
            port: await freePort(),
            parallel: concurrency,
            threads: options.threads,
            contextPerSlot: options.contextPerSlot,
          });
          targets.push({ name: "llama-server", url: managed.url, managed });
        }
      }
      if (!options.skipOurs) {
        if (options.oursUrl !== undefined) {
          targets.push({ name: "ours", url: options.oursUrl, managed: undefined });
        } else {
          const managed = await startOurs(options, modelPath, concurrency);
          targets.push({ name: "ours", url: managed.url, managed });
        }
      }
      log(`concurrency ${concurrency}: ${targets.map((target) => `${target.name} at ${target.url}`).join(", ")}`);
      const ours = targets.find((target) => target.name === "ours");
      if (ours !== undefined && oursRuntime === undefined) oursRuntime = await runtimeOf(ours.url);
      for (const target of targets) {
        const warm = await streamCompletion(target.url, makePrompts(1, options.promptWords, 1)[0] ?? "", settings);
        if (!warm.ok) throw new Error(`${target.name} warm-up failed: ${warm.error}`);
        if (options.warmupRequestsPerSlot === 0) continue;
        promptSeed += 1;
        const prompts = makePrompts(concurrency * options.warmupRequestsPerSlot, options.promptWords, promptSeed);
        const warmup = await runLoad(target.url, prompts, concurrency, settings);
        log(`  warm-up ${target.name.padEnd(12)} ${warmup.tokensPerSecond.toFixed(1)} tok/s (not counted)`);
      }
      const results = new Map<ServerName, { runs: LoadResult[]; cpu: Map<string, number> }>();
      for (let runIndex = 0; runIndex < options.runs; runIndex += 1) {
        const order = runIndex % 2 === 0 ? targets : [...targets].reverse();
        for (const target of order) {
          // Fresh prompts for every run and server: no prompt-cache advantage for either side.
          promptSeed += 1;
          const prompts = makePrompts(concurrency * options.requestsPerSlot, options.promptWords, promptSeed);
          const pid = target.managed?.process.pid;
          const before = pid === undefined ? undefined : await snapshotThreads(pid);
          const result = await runLoad(target.url, prompts, concurrency, settings);
          const after = pid === undefined ? undefined : await snapshotThreads(pid);
          const entry = results.get(target.name) ?? { runs: [], cpu: new Map<string, number>() };
          if (before !== undefined && after !== undefined) {
            for (const thread of cpuByThread(pid ?? 0, before, after)) {
              entry.cpu.set(thread.name, (entry.cpu.get(thread.name) ?? 0) + thread.cpuSeconds);
            }
          }
          entry.runs.push(result);
          results.set(target.name, entry);
          log(
            `  run ${runIndex + 1} ${target.name.padEnd(12)} ${result.tokensPerSecond.toFixed(1)} tok/s, ` +
              `TTFT p50 ${result.timeToFirstTokenMs.p50.toFixed(0)} ms, latency p50 ${result.latencyMs.p50.toFixed(0)} ms` +
              (result.failed > 0 ? `, ${result.failed} failed (${result.firstError})` : ""),
          );
        }
      }
      for (const [serverName, entry] of results) {
        const pooled: RawTimes = {
          ttft: entry.runs.flatMap((result) => result.samples.ttft),
          latency: entry.runs.flatMap((result) => result.samples.latency),
        };
        rows.push(summarise(serverName, concurrency, entry.runs, pooled, entry.cpu));
      }
    } finally {
      for (const target of targets) await target.managed?.stop();
    }
  }
  report(rows, options, oursRuntime);
}

/** What serve-llm's /info says about its llama.cpp binary, threads and libuv pool. */
async function runtimeOf(url: string): Promise<Record<string, unknown> | undefined> {
  try {
    const info = (await (await fetch(`${url}/info`)).json()) as Record<string, unknown>;
    return {
      engine: info.engine,
      llamaCppBuild: info.llama_cpp_build,
      openmp: info.llama_cpp_openmp,
      threads: info.threads,
      uvThreadpoolSize: info.uv_threadpool_size,
    };
  } catch {
    return undefined;
  }
}

function report(rows: Row[], options: Options, oursRuntime: Record<string, unknown> | undefined): void {
  const ratios = options.concurrency.map((concurrency) => {
    const ours = rows.find((row) => row.server === "ours" && row.concurrency === concurrency);
    const theirs = rows.find((row) => row.server === "llama-server" && row.concurrency === concurrency);
    return {
      concurrency,
      tokensPerSecondRatio:
        ours === undefined || theirs === undefined ? undefined : ours.tokensPerSecond / theirs.tokensPerSecond,
      // Run i of one server against run i of the other (back to back): the spread shows the noise.
      perRun:
        ours === undefined || theirs === undefined
          ? []
          : ours.runs.flatMap((run, index) => {
              const other = theirs.runs[index];
              return other === undefined ? [] : [run.tokensPerSecond / other.tokensPerSecond];
            }),
    };
  });
  const batchingGain = (server: ServerName): number | undefined => {
    const one = rows.find((row) => row.server === server && row.concurrency === 1);
    const four = rows.find((row) => row.server === server && row.concurrency === 4);
    return one === undefined || four === undefined ? undefined : four.tokensPerSecond / one.tokensPerSecond;
  };
  if (options.json) {
    process.stdout.write(
      `${JSON.stringify(
        {
          suite: name,
          settings: {
            maxTokens: options.maxTokens,
            promptWords: options.promptWords,
            threads: options.threads,
            runs: options.runs,
            requestsPerSlot: options.requestsPerSlot,
            warmupRequestsPerSlot: options.warmupRequestsPerSlot,
            contextPerSlot: options.contextPerSlot,
          },
          results: rows.map(({ runs, ...row }) => ({
            ...row,
            runTokensPerSecond: runs.map((result) => result.tokensPerSecond),
          })),
          oursRuntime,
          ratios,
          whereTheTimeGoes: whereTheTimeGoes(rows, ratios),
          batchingGain: { ours: batchingGain("ours"), llamaServer: batchingGain("llama-server") },
        },
        null,
        2,
      )}\n`,
    );
    return;
  }
  const lines = [
    "| concurrency | server | tok/s | TTFT p50 / p95 (ms) | latency p50 / p95 (ms) | tokens/request | failed | server CPU ms/token (by thread) |",
    "|---|---|---|---|---|---|---|---|",
    ...rows.map(
      (row) =>
        `| ${row.concurrency} | ${row.server} | ${row.tokensPerSecond.toFixed(1)} | ` +
        `${row.timeToFirstTokenMs.p50.toFixed(0)} / ${row.timeToFirstTokenMs.p95.toFixed(0)} | ` +
        `${row.latencyMs.p50.toFixed(0)} / ${row.latencyMs.p95.toFixed(0)} | ${row.tokensPerRequest.toFixed(1)} | ${row.failed} | ` +
        `${formatCpu(row)} |`,
    ),
    "",
    "| concurrency | ours ÷ llama-server (tok/s) | run by run (min / median / max) |",
    "|---|---|---|",
    ...ratios.map(
      (ratio) =>
        `| ${ratio.concurrency} | ${ratio.tokensPerSecondRatio === undefined ? "n/a" : ratio.tokensPerSecondRatio.toFixed(2)} | ` +
        `${formatSpread(ratio.perRun)} |`,
    ),
    "",
    `batching gain (tok/s at 4 ÷ at 1): ours ${batchingGain("ours")?.toFixed(2) ?? "n/a"}, llama-server ${batchingGain("llama-server")?.toFixed(2) ?? "n/a"}`,
    ...whereTheTimeGoes(rows, ratios),
    ...(oursRuntime === undefined
      ? []
      : [
          `ours: llama.cpp ${String(oursRuntime.llamaCppBuild)} build, OpenMP ${String(oursRuntime.openmp)}, ` +
            `threads ${String(oursRuntime.threads)}, libuv pool ${String(oursRuntime.uvThreadpoolSize)}`,
        ]),
  ];
  process.stdout.write(`${lines.join("\n")}\n`);
}

/**
 * For every concurrency where ours is slower: CPU per token of each server split into the main
 * thread (ours: JavaScript — HTTP, SSE, detokenizing; llama-server: its slot loop) and the rest
 * (ours: the decode threads), so the report itself says where the difference goes.
 */
function whereTheTimeGoes(
  rows: Row[],
  ratios: Array<{ concurrency: number; tokensPerSecondRatio: number | undefined }>,
): string[] {
  const lines: string[] = [];
  for (const { concurrency, tokensPerSecondRatio } of ratios) {
    if (tokensPerSecondRatio === undefined || tokensPerSecondRatio >= 1) continue;
    const ours = rows.find((row) => row.server === "ours" && row.concurrency === concurrency);
    const theirs = rows.find((row) => row.server === "llama-server" && row.concurrency === concurrency);
    if (ours?.cpuMsPerToken === undefined || theirs?.cpuMsPerToken === undefined) continue;
    const split = (row: Row) => {
      const main = row.cpuMsPerTokenByThread.main ?? 0;
      return { main, rest: (row.cpuMsPerToken ?? 0) - main };
    };
    const o = split(ours);
    const t = split(theirs);
    lines.push(
      `where the time goes at ${concurrency} client(s) (ratio ${tokensPerSecondRatio.toFixed(2)}): CPU ms/token ours ` +
        `${ours.cpuMsPerToken.toFixed(2)} vs llama-server ${theirs.cpuMsPerToken.toFixed(2)}; ours: main (JavaScript: ` +
        `HTTP, SSE, detokenizing) ${o.main.toFixed(2)}, other threads (decode, sampling) ${o.rest.toFixed(2)}; ` +
        `llama-server: main ${t.main.toFixed(2)}, other threads ${t.rest.toFixed(2)}. On ${availableParallelism()} cores ` +
        "every millisecond a thread outside the decode spends delays the decode threads.",
    );
  }
  return lines;
}

function formatSpread(values: readonly number[]): string {
  if (values.length === 0) return "n/a";
  const median = percentiles(values).p50;
  return `${Math.min(...values).toFixed(2)} / ${median.toFixed(2)} / ${Math.max(...values).toFixed(2)}`;
}

function formatCpu(row: Row): string {
  if (row.cpuMsPerToken === undefined) return "n/a";
  const threads = Object.entries(row.cpuMsPerTokenByThread)
    .filter(([, value]) => value >= 0.05)
    .map(([thread, value]) => `${thread} ${value.toFixed(2)}`)
    .join(", ");
  return `${row.cpuMsPerToken.toFixed(2)} (${threads})`;
}
