/**
 * `npm run bench -- token-probabilities [options]`: what log-probabilities and n > 1 cost on
 * serve-llm (its own process, native engine, the generated ~66M-parameter F16 model, vocab 32,000).
 * One client, rounds alternating the modes in turn so all see the same machine load:
 *  - plain: /v1/completions without logprobs (the llm-vs-llama-server request);
 *  - logprobs 0: each token's logprob; logprobs 5: plus the 5 most likely tokens;
 *  - n = 4 in one request (the prompt decoded once, its KV copied) vs 4 concurrent n = 1 requests
 *    with the same prompt and `cache_prompt: false` (each decodes it).
 * Reported: generated tokens/s of each mode and its ratio to plain (n: to the 4 separate requests).
 * Greedy (n: temperature 1, seeded), token ids below 300 banned (random weights emit invalid UTF-8).
 *
 * options: --rounds 4  --max-tokens 64  --prompt-words 200  --threads 2  --parallel 4
 *          --context-size 1024  --model <gguf>  --json
 */
import { tinyModelPath } from "../../src/gguf/index.js";
import { type LlmBenchOptions, llmBenchOptions, parseBenchOptions } from "../support/bench-options.js";
import { banTokensBelow, tokensPerSecondByMode } from "../support/completion-load.js";
import { ensureNativeAddon } from "../support/local-llama-build.js";
import { startServeLlm } from "../support/serve-llm.js";

export const name = "token-probabilities";
export const description = "cost of logprobs / top_logprobs per token, and n = 4 vs 4 separate requests";

const SHARED = ["rounds", "maxTokens", "promptWords", "threads", "parallel", "contextSize", "model", "json"] as const;
type Options = Pick<LlmBenchOptions, (typeof SHARED)[number]>;

function parseOptions(args: string[]): Options {
  const shared = llmBenchOptions(...SHARED);
  return parseBenchOptions(args, { ...shared.defaults, rounds: 4, promptWords: 200, contextSize: 1024 }, shared.flags);
}

type Mode = "plain" | "logprobs 0" | "logprobs 5" | "n = 4" | "4 × n = 1";

/** Generated tokens and wall ms of one mode's request(s). */
async function timed(
  url: string,
  bodies: ReadonlyArray<Record<string, unknown>>,
): Promise<{ tokens: number; ms: number }> {
  const started = performance.now();
  const answers = await Promise.all(
    bodies.map(async (body) => {
      const response = await fetch(`${url}/v1/completions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      });
      if (!response.ok) throw new Error(`request failed: ${response.status} ${await response.text()}`);
      return (await response.json()) as { usage: { completion_tokens: number } };
    }),
  );
  const ms = performance.now() - started;
  return { tokens: answers.reduce((sum, answer) => sum + answer.usage.completion_tokens, 0), ms };
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
    // A generous timeout: on a saturated machine a 4-choice request can take minutes.
    extraArgs: ["--engine", "native", "--max-n", String(options.parallel), "--request-timeout", "600"],
  });
  try {
    const common = {
      max_tokens: options.maxTokens,
      temperature: 0,
      ignore_eos: true,
      logit_bias: banTokensBelow(300),
    };
    const modes: Mode[] = ["plain", "logprobs 0", "logprobs 5", "n = 4", "4 × n = 1"];
    const bodiesFor = (mode: Mode, prompt: string): Array<Record<string, unknown>> => {
      const sampled = { ...common, temperature: 1, seed: 3, cache_prompt: false };
      switch (mode) {
        case "plain":
          return [{ ...common, prompt }];
        case "logprobs 0":
          return [{ ...common, prompt, logprobs: 0 }];
        case "logprobs 5":
          return [{ ...common, prompt, logprobs: 5 }];
        case "n = 4":
          return [{ ...sampled, prompt, n: 4 }];
        case "4 × n = 1":
          return [0, 1, 2, 3].map((index) => ({ ...sampled, prompt, seed: 3 + index }));
      }
    };
    const rate = await tokensPerSecondByMode(modes, options, (mode, prompt) =>
      timed(server.url, bodiesFor(mode, prompt)),
    );
    const result = {
      model: modelPath,
      rounds: options.rounds,
      maxTokens: options.maxTokens,
      promptWords: options.promptWords,
      tokensPerSecond: Object.fromEntries(modes.map((mode) => [mode, rate(mode)])),
      logprobsOverPlain: rate("logprobs 0") / rate("plain"),
      topLogprobsOverPlain: rate("logprobs 5") / rate("plain"),
      nOverSeparate: rate("n = 4") / rate("4 × n = 1"),
    };
    if (options.json) {
      process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
      return;
    }
    process.stdout.write(
      [
        `token-probabilities: ${options.promptWords}-word prompts, ${options.maxTokens} new tokens, ${options.rounds} rounds, 1 client`,
        ...modes.map((mode) => `  ${mode.padEnd(12)} ${rate(mode).toFixed(1)} tok/s`),
        `  logprobs 0 ÷ plain ${result.logprobsOverPlain.toFixed(2)}  logprobs 5 ÷ plain ${result.topLogprobsOverPlain.toFixed(2)}  n = 4 ÷ 4 × n = 1 ${result.nOverSeparate.toFixed(2)}`,
        "",
      ].join("\n"),
    );
  } finally {
    await server.stop();
  }
}
