/**
 * `npm run bench -- lora [options]`: serve-llm (native engine, its own process) with two LoRA
 * adapters generated for the ~66M-parameter F16 bench model (rank 8 on attn_q/attn_v): tokens/s of
 * 4 streaming clients on the base model against 4 clients split over the 2 adapters (2 each, by
 * OpenAI `model`), alternating runs on the same server. Target: adapters ÷ base ≥ 0.8 (issue 15).
 * Greedy, ignore_eos, token ids below 300 banned (random weights emit invalid UTF-8).
 *
 * options: --runs 2  --requests-per-client 3  --max-tokens 64  --prompt-words 32  --threads 2
 *          --context-size 512  --rank 8  --json
 */
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { generateLora } from "../../src/gguf/generate-lora.js";
import { optionsHash, TINY_MODEL_PRESETS, tinyModelPath } from "../../src/gguf/index.js";
import { llmTwinCacheDirectory } from "../../src/gguf/tiny-model-path.js";
import { banTokensBelow, type CompletionSettings, makePrompts, runLoad } from "../support/completion-load.js";
import { ensureNativeAddon } from "../support/local-llama-build.js";
import { startServeLlm } from "../support/serve-llm.js";

export const name = "lora";
export const description = "tok/s of 4 clients on 2 LoRA adapters ÷ 4 clients on the base model (native engine)";

type Options = {
  runs: number;
  requestsPerClient: number;
  maxTokens: number;
  promptWords: number;
  threads: number;
  contextSize: number;
  rank: number;
  json: boolean;
};

function parseOptions(args: string[]): Options {
  const options: Options = {
    runs: 2,
    requestsPerClient: 3,
    maxTokens: 64,
    promptWords: 32,
    threads: 2,
    contextSize: 512,
    rank: 8,
    json: false,
  };
  const keys: Record<string, keyof Options> = {
    "--runs": "runs",
    "--requests-per-client": "requestsPerClient",
    "--max-tokens": "maxTokens",
    "--prompt-words": "promptWords",
    "--threads": "threads",
    "--context-size": "contextSize",
    "--rank": "rank",
  };
  for (let index = 0; index < args.length; index += 1) {
    const flag = args[index] ?? "";
    const key = keys[flag];
    if (key !== undefined) {
      const value = Number(args[index + 1]);
      if (!Number.isInteger(value) || value < 1) throw new Error(`${flag} needs a positive integer`);
      (options as Record<string, unknown>)[key] = value;
      index += 1;
    } else if (flag === "--json") options.json = true;
    else throw new Error(`unknown option ${flag}`);
  }
  return options;
}

/** Generated once per (rank, seed) next to the cached bench model. */
async function benchAdapter(rank: number, seed: number): Promise<string> {
  const base = TINY_MODEL_PRESETS["bench-66m"];
  const directory = path.join(llmTwinCacheDirectory(), "test-models");
  await mkdir(directory, { recursive: true });
  const file = path.join(directory, `bench-66m-lora-r${rank}-s${seed}-${optionsHash(base)}.gguf`);
  const { existsSync } = await import("node:fs");
  if (!existsSync(file)) await generateLora(file, { base, rank, alpha: rank, seed, magnitude: 0.05 });
  return file;
}

export async function run(args: string[]): Promise<void> {
  const options = parseOptions(args);
  await ensureNativeAddon((message) => process.stderr.write(`${message}\n`));
  const modelPath = await tinyModelPath("bench-66m");
  const adapters = [await benchAdapter(options.rank, 21), await benchAdapter(options.rank, 22)];
  const server = await startServeLlm({
    modelPath,
    parallel: 4,
    threads: options.threads,
    contextSize: options.contextSize,
    extraArgs: ["--lora", `a=${adapters[0]}`, "--lora", `b=${adapters[1]}`],
  });
  const settings: CompletionSettings = { maxTokens: options.maxTokens, logitBias: banTokensBelow(300) };
  const perRun = options.requestsPerClient * 4;
  try {
    // Warm-up, both modes.
    await runLoad(server.url, makePrompts(4, options.promptWords, 1), 4, settings);
    await runLoad(server.url, makePrompts(2, options.promptWords, 2), 2, { ...settings, model: "a" });
    const base: number[] = [];
    const split: number[] = [];
    for (let runIndex = 0; runIndex < options.runs; runIndex += 1) {
      const prompts = makePrompts(perRun, options.promptWords, 100 + runIndex);
      const half = perRun / 2;
      const measureBase = async () => {
        const result = await runLoad(server.url, prompts, 4, settings);
        base.push(result.tokensPerSecond);
      };
      const measureSplit = async () => {
        const started = performance.now();
        const results = await Promise.all([
          runLoad(server.url, prompts.slice(0, half), 2, { ...settings, model: "a" }),
          runLoad(server.url, prompts.slice(half), 2, { ...settings, model: "b" }),
        ]);
        const failed = results.reduce((sum, result) => sum + result.failed, 0);
        if (failed > 0) throw new Error(`adapter requests failed: ${results.find((r) => r.firstError)?.firstError}`);
        const tokens = results.reduce((sum, result) => sum + result.completionTokens, 0);
        split.push(tokens / ((performance.now() - started) / 1000));
      };
      // Alternating order between runs.
      if (runIndex % 2 === 0) {
        await measureBase();
        await measureSplit();
      } else {
        await measureSplit();
        await measureBase();
      }
    }
    const mean = (values: number[]): number => values.reduce((sum, value) => sum + value, 0) / values.length;
    const result = {
      baseTokensPerSecond: mean(base),
      adaptersTokensPerSecond: mean(split),
      ratio: mean(split) / mean(base),
      runs: options.runs,
      requestsPerRun: perRun,
      maxTokens: options.maxTokens,
      rank: options.rank,
    };
    if (options.json) {
      process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
      return;
    }
    process.stdout.write(
      [
        `lora: 4 clients, ${perRun} requests × ${options.maxTokens} tokens per run, ${options.runs} runs, rank ${options.rank}`,
        `  base model           ${result.baseTokensPerSecond.toFixed(1)} tok/s`,
        `  2 adapters (2 + 2)   ${result.adaptersTokensPerSecond.toFixed(1)} tok/s`,
        `  adapters ÷ base: ${result.ratio.toFixed(2)} (target ≥ 0.8)`,
        "",
      ].join("\n"),
    );
  } finally {
    await server.stop();
  }
}
