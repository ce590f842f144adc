/**
 * `npm run bench -- watermark [options]`: what TGI's `watermark: true` costs on serve-llm (its own
 * process, native engine, the generated ~66M-parameter F16 model, vocab 32,000): the green-list
 * sampler hashes every candidate each step, and a greedy watermarked request leaves the greedy fast
 * path for the sampler chain. One client on TGI's /generate, rounds alternating the four modes
 * (greedy, greedy + watermark, sampled, sampled + watermark) so all see the same machine load.
 * Reported: generated tokens/s of each mode and watermarked ÷ plain for greedy and sampled.
 * Token ids below 300 banned (random weights emit invalid UTF-8), end of generation ignored.
 *
 * options: --rounds 4  --max-tokens 128  --prompt-words 50  --threads 2  --parallel 1
 *          --context-size 1024  --model <gguf>  --json
 */
import { tinyModelPath } from "../../src/gguf/index.js";
import { type LlmBenchOptions, llmBenchOptions, parseBenchOptions } from "../support/bench-options.js";
import { banTokensBelow, tokensPerSecondByMode } from "../support/completion-load.js";
import { ensureNativeAddon } from "../support/local-llama-build.js";
import { startServeLlm } from "../support/serve-llm.js";

export const name = "watermark";
export const description = "cost of TGI's watermark: true per token, greedy and sampled";

const SHARED = ["rounds", "maxTokens", "promptWords", "threads", "parallel", "contextSize", "model", "json"] as const;
type Options = Pick<LlmBenchOptions, (typeof SHARED)[number]>;

function parseOptions(args: string[]): Options {
  const shared = llmBenchOptions(...SHARED);
  return parseBenchOptions(
    args,
    { ...shared.defaults, rounds: 4, maxTokens: 128, promptWords: 50, parallel: 1, contextSize: 1024 },
    shared.flags,
  );
}

const MODES = ["greedy", "greedy + watermark", "sampled", "sampled + watermark"] as const;
type Mode = (typeof MODES)[number];

async function timed(url: string, body: Record<string, unknown>): Promise<{ tokens: number; ms: number }> {
  const started = performance.now();
  const response = await fetch(`${url}/generate`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`request failed: ${response.status} ${await response.text()}`);
  const answer = (await response.json()) as { details: { generated_tokens: number } };
  return { tokens: answer.details.generated_tokens, ms: performance.now() - started };
}

export async function run(args: string[]): Promise<void> {
  const options = parseOptions(args);
  await ensureNativeAddon((message) => process.stderr.write(`${message}\n`));
  const modelPath = options.model ?? (await tinyModelPath("bench-66m"));
  const server = await startServeLlm({
    modelPath,
    parallel: options.parallel,
    threads: options.threads,
    contextSize: options.contextSize,
    extraArgs: ["--engine", "native", "--request-timeout", "600"],
  });
  try {
    const bodyFor = (mode: Mode, inputs: string): Record<string, unknown> => ({
      inputs,
      parameters: {
        max_new_tokens: options.maxTokens,
        ignore_eos: true,
        details: true,
        logit_bias: banTokensBelow(300),
        ...(mode.startsWith("sampled") ? { do_sample: true, temperature: 0.8, top_k: 40, seed: 3 } : {}),
        ...(mode.endsWith("watermark") ? { watermark: true } : {}),
      },
    });
    const rate = await tokensPerSecondByMode(MODES, options, (mode, prompt) =>
      timed(server.url, bodyFor(mode, prompt)),
    );
    const result = {
      model: modelPath,
      rounds: options.rounds,
      maxTokens: options.maxTokens,
      promptWords: options.promptWords,
      tokensPerSecond: Object.fromEntries(MODES.map((mode) => [mode, rate(mode)])),
      greedyWatermarkOverPlain: rate("greedy + watermark") / rate("greedy"),
      sampledWatermarkOverPlain: rate("sampled + watermark") / rate("sampled"),
    };
    if (options.json) {
      process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
      return;
    }
    process.stdout.write(
      [
        `watermark: ${options.promptWords}-word prompts, ${options.maxTokens} new tokens, ${options.rounds} rounds, 1 client`,
        ...MODES.map((mode) => `  ${mode.padEnd(20)} ${rate(mode).toFixed(1)} tok/s`),
        `  greedy: watermark ÷ plain ${result.greedyWatermarkOverPlain.toFixed(2)}  sampled: watermark ÷ plain ${result.sampledWatermarkOverPlain.toFixed(2)}`,
        "",
      ].join("\n"),
    );
  } finally {
    await server.stop();
  }
}
