/**
 * `npm run bench -- lora [options]`: serve-llm (native engine, its own process) with two LoRA
 * adapters generated for the ~66M-parameter F16 bench model (rank 8 on attn_q/attn_v): tokens/s of
 * 4 streaming clients on the base model against 4 clients split over the 2 adapters (2 each, by
 * OpenAI `model`), alternating runs on the same server. Target: adapters ÷ base ≥ 0.8 (issue 15).
 * serve-llm runs its default --lora-mode (auto: batched, each token's adapter applied inside one
 * decode) unless --lora-mode contexts (or batched) is given.
 * Greedy, ignore_eos, token ids below 300 banned (random weights emit invalid UTF-8).
 *
 * With --vs-llama-server, llama.cpp's llama-server (built once from the llama.cpp source
 * node-llama-cpp ships, never downloaded; bench/support/llama-server.ts) runs beside it with the same
 * model, adapters (`--lora a.gguf,b.gguf --lora-init-without-apply`), slots and threads; its
 * adapter clients select theirs per request (`lora: [{id, scale: 1}]`). Runs alternate between the
 * two servers. Target: ours ÷ llama-server on the 2-adapter load ≥ 1.0 (issue 15).
 *
 * options: --runs 2  --requests-per-client 3  --max-tokens 64  --prompt-words 32  --threads 2
 *          --context-size 512  --rank 8  --lora-mode <auto|batched|contexts> (serve-llm's; default its own)
 *          --lora-contexts <n> (serve-llm's, contexts mode; default its own)
 *          --serve-args "<more serve-llm flags>"  --llama-server-args "<more llama-server flags>"
 *          --vs-llama-server  --prebuilt (side by side: skip npm run build:llama)  --json
 * Reported per server and mode: tokens/s and the server's CPU ms per generated token (all threads).
 */
import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { generateLora } from "../../src/gguf/generate-lora.js";
import { optionsHash, TINY_MODEL_PRESETS, tinyModelPath } from "../../src/gguf/index.js";
import { llmTwinCacheDirectory } from "../../src/gguf/tiny-model-path.js";
import { freePort } from "../../src/testing/free-port.js";
import {
  type LlmBenchOptions,
  llmBenchOptions,
  oneOf,
  parseBenchOptions,
  positiveInteger,
  words,
} from "../support/bench-options.js";
import { banTokensBelow, type CompletionSettings, makePrompts, runLoad } from "../support/completion-load.js";
import { type ManagedServer, startLlamaServer } from "../support/llama-server.js";
import { ensureSideBySideBuilds } from "../support/local-llama-build.js";
import { processCpuSeconds } from "../support/process-cpu.js";
import { startServeLlm } from "../support/serve-llm.js";

export const name = "lora";
export const description =
  "tok/s of 4 clients on 2 LoRA adapters ÷ 4 clients on the base model (native engine; --vs-llama-server)";

const SHARED = [
  "runs",
  "requestsPerClient",
  "maxTokens",
  "promptWords",
  "threads",
  "contextSize",
  "serveArgs",
  "vsLlamaServer",
  "prebuilt",
  "json",
] as const;
type Options = Pick<LlmBenchOptions, (typeof SHARED)[number]> & {
  rank: number;
  loraContexts: number | undefined;
  loraMode: string | undefined;
  llamaServerArgs: string[];
};

function parseOptions(args: string[]): Options {
  const shared = llmBenchOptions(...SHARED);
  return parseBenchOptions<Options>(
    args,
    { ...shared.defaults, rank: 8, loraContexts: undefined, loraMode: undefined, llamaServerArgs: [] },
    {
      "--rank": ["rank", positiveInteger],
      "--lora-contexts": ["loraContexts", positiveInteger],
      "--lora-mode": ["loraMode", oneOf("auto", "batched", "contexts")],
      "--llama-server-args": ["llamaServerArgs", words],
      ...shared.flags,
    },
  );
}

/** Generated once per (rank, seed) next to the cached bench model. */
async function benchAdapter(rank: number, seed: number): Promise<string> {
  const base = TINY_MODEL_PRESETS["bench-66m"];
  const directory = path.join(llmTwinCacheDirectory(), "test-models");
  await mkdir(directory, { recursive: true });
  const file = path.join(directory, `bench-66m-lora-r${rank}-s${seed}-${optionsHash(base)}.gguf`);
  if (!existsSync(file)) await generateLora(file, { base, rank, alpha: rank, seed, magnitude: 0.05 });
  return file;
}

/** How one server is asked for adapter a, adapter b, or the base. */
type Target = {
  name: "ours" | "llama-server";
  server: ManagedServer;
  adapter(which: "a" | "b"): Partial<CompletionSettings>;
};

/** Per mode: tokens/s of each run, and the server's CPU time (all threads) and tokens summed over runs. */
type Measured = { base: number[]; split: number[]; cpu: { base: Cost; split: Cost } };
type Cost = { cpuSeconds: number; tokens: number };
type Measurement = { tokensPerSecond: number; tokens: number };

/** Runs `measure` and adds the server process's CPU seconds and the tokens generated to `cost`. */
async function withCpu(target: Target, cost: Cost, measure: () => Promise<Measurement>): Promise<number> {
  const pid = target.server.process.pid ?? 0;
  const before = await processCpuSeconds(pid);
  const measured = await measure();
  cost.cpuSeconds += (await processCpuSeconds(pid)) - before;
  cost.tokens += measured.tokens;
  return measured.tokensPerSecond;
}

async function measureBase(target: Target, prompts: string[], settings: CompletionSettings): Promise<Measurement> {
  const result = await runLoad(target.server.url, prompts, 4, settings);
  if (result.failed > 0) throw new Error(`${target.name}: base requests failed: ${result.firstError}`);
  return { tokensPerSecond: result.tokensPerSecond, tokens: result.completionTokens };
}

async function measureSplit(target: Target, prompts: string[], settings: CompletionSettings): Promise<Measurement> {
  const half = prompts.length / 2;
  const started = performance.now();
  const results = await Promise.all([
    runLoad(target.server.url, prompts.slice(0, half), 2, { ...settings, ...target.adapter("a") }),
    runLoad(target.server.url, prompts.slice(half), 2, { ...settings, ...target.adapter("b") }),
  ]);
  const failed = results.reduce((sum, result) => sum + result.failed, 0);
  if (failed > 0) {
    throw new Error(`${target.name}: adapter requests failed: ${results.find((r) => r.firstError)?.firstError}`);
  }
  const tokens = results.reduce((sum, result) => sum + result.completionTokens, 0);
  return { tokensPerSecond: tokens / ((performance.now() - started) / 1000), tokens };
}

export async function run(args: string[]): Promise<void> {
  const options = parseOptions(args);
  const binary = await ensureSideBySideBuilds(options, (message) => process.stderr.write(`${message}\n`));
  const modelPath = await tinyModelPath("bench-66m");
  const adapters = [await benchAdapter(options.rank, 21), await benchAdapter(options.rank, 22)];
  const targets: Target[] = [];
  try {
    const ours = await startServeLlm({
      modelPath,
      parallel: 4,
      threads: options.threads,
      contextSize: options.contextSize,
      extraArgs: [
        "--lora",
        `a=${adapters[0]}`,
        "--lora",
        `b=${adapters[1]}`,
        ...(options.loraContexts === undefined ? [] : ["--lora-contexts", String(options.loraContexts)]),
        ...(options.loraMode === undefined ? [] : ["--lora-mode", options.loraMode]),
        ...options.serveArgs,
      ],
    });
    targets.push({ name: "ours", server: ours, adapter: (which) => ({ model: which }) });
    if (binary !== undefined) {
      const server = await startLlamaServer({
        binary,
        modelPath,
        port: await freePort(),
        parallel: 4,
        threads: options.threads,
        contextPerSlot: options.contextSize,
        // Loaded at scale 0: a request without `lora` is the base model's.
        // (Comma-separated: a repeated --lora keeps only the last one in this llama.cpp version.)
        extraArgs: ["--lora", adapters.join(","), "--lora-init-without-apply", ...options.llamaServerArgs],
      });
      targets.push({
        name: "llama-server",
        server,
        adapter: (which) => ({ extraBody: { lora: [{ id: which === "a" ? 0 : 1, scale: 1 }] } }),
      });
    }
    const settings: CompletionSettings = { maxTokens: options.maxTokens, logitBias: banTokensBelow(300) };
    const perRun = options.requestsPerClient * 4;
    const measured = new Map<Target["name"], Measured>();
    for (const target of targets) {
      measured.set(target.name, {
        base: [],
        split: [],
        cpu: { base: { cpuSeconds: 0, tokens: 0 }, split: { cpuSeconds: 0, tokens: 0 } },
      });
      // Warm-up, both modes.
      await runLoad(target.server.url, makePrompts(4, options.promptWords, 1), 4, settings);
      await runLoad(target.server.url, makePrompts(2, options.promptWords, 2), 2, {
        ...settings,
        ...target.adapter("a"),
      });
    }
    for (let runIndex = 0; runIndex < options.runs; runIndex += 1) {
      const prompts = makePrompts(perRun, options.promptWords, 100 + runIndex);
      // Alternating order between runs: servers, and base vs adapters.
      const order = runIndex % 2 === 0 ? targets : [...targets].reverse();
      for (const target of order) {
        const figures = measured.get(target.name) as Measured;
        const base = async () =>
          figures.base.push(await withCpu(target, figures.cpu.base, () => measureBase(target, prompts, settings)));
        const split = async () =>
          figures.split.push(await withCpu(target, figures.cpu.split, () => measureSplit(target, prompts, settings)));
        if (runIndex % 2 === 0) {
          await base();
          await split();
        } else {
          await split();
          await base();
        }
      }
    }
    const mean = (values: number[]): number => values.reduce((sum, value) => sum + value, 0) / values.length;
    // CPU ms per generated token (all the server's threads): what other processes on a busy
    // machine distort least, though ggml's threads spinning at their barriers count as CPU too.
    const perToken = (cost: Cost) => (cost.cpuSeconds * 1000) / Math.max(1, cost.tokens);
    const summary = (figures: Measured) => ({
      baseTokensPerSecond: mean(figures.base),
      adaptersTokensPerSecond: mean(figures.split),
      ratio: mean(figures.split) / mean(figures.base),
      baseCpuMsPerToken: perToken(figures.cpu.base),
      adaptersCpuMsPerToken: perToken(figures.cpu.split),
    });
    const oursSummary = summary(measured.get("ours") as Measured);
    const llama = measured.get("llama-server");
    const llamaSummary = llama === undefined ? undefined : summary(llama);
    const result = {
      ...oursSummary,
      ...(llamaSummary === undefined
        ? {}
        : {
            llamaServer: llamaSummary,
            oursOverLlamaServer: {
              adapters: oursSummary.adaptersTokensPerSecond / llamaSummary.adaptersTokensPerSecond,
              base: oursSummary.baseTokensPerSecond / llamaSummary.baseTokensPerSecond,
            },
          }),
      runs: options.runs,
      requestsPerRun: perRun,
      maxTokens: options.maxTokens,
      rank: options.rank,
      loraContexts: options.loraContexts ?? "default",
      loraMode: options.loraMode ?? "default (auto)",
      serveArgs: options.serveArgs,
      llamaServerArgs: options.llamaServerArgs,
    };
    if (options.json) {
      process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
      return;
    }
    const lines = [
      `lora: 4 clients, ${perRun} requests × ${options.maxTokens} tokens per run, ${options.runs} runs, rank ${options.rank}, serve-llm --lora-mode ${options.loraMode ?? "auto (default)"}`,
      `  ours          base ${oursSummary.baseTokensPerSecond.toFixed(1)} tok/s  2 adapters (2 + 2) ${oursSummary.adaptersTokensPerSecond.toFixed(1)} tok/s  adapters ÷ base ${oursSummary.ratio.toFixed(2)} (target ≥ 0.8)`,
      `                CPU ms/token: base ${oursSummary.baseCpuMsPerToken.toFixed(2)}  2 adapters ${oursSummary.adaptersCpuMsPerToken.toFixed(2)}`,
    ];
    if (llamaSummary !== undefined && result.oursOverLlamaServer !== undefined) {
      lines.push(
        `  llama-server  base ${llamaSummary.baseTokensPerSecond.toFixed(1)} tok/s  2 adapters (2 + 2) ${llamaSummary.adaptersTokensPerSecond.toFixed(1)} tok/s  adapters ÷ base ${llamaSummary.ratio.toFixed(2)}`,
        `                CPU ms/token: base ${llamaSummary.baseCpuMsPerToken.toFixed(2)}  2 adapters ${llamaSummary.adaptersCpuMsPerToken.toFixed(2)}`,
        `  ours ÷ llama-server: 2 adapters ${result.oursOverLlamaServer.adapters.toFixed(2)} (target ≥ 1.0), base ${result.oursOverLlamaServer.base.toFixed(2)}`,
      );
    }
    process.stdout.write(`${lines.join("\n")}\n\n`);
  } finally {
    for (const target of targets) await target.server.stop();
  }
}
