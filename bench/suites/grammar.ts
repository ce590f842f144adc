/**
 * `npm run bench -- grammar [options]`: what grammar-constrained requests cost on serve-llm (its own
 * process, the generated ~66M-parameter F16 model, vocab 32,000), served one after the other vs
 * all at once. Each round runs four modes in a rotating order, every mode on fresh prompts:
 *  - json_schema, sequential: `--clients` chat requests with `response_format: {type: "json_schema"}`,
 *    one after the other; json_schema, concurrent: the same number at once;
 *  - plain, sequential / concurrent: the same requests without `response_format`.
 * Reported per mode: wall time of the round's requests (averaged over rounds), generated tokens/s and
 * the server process's CPU time per generated token (less sensitive to other load on the machine
 * than wall time), and concurrent ÷ sequential wall time for both (below 1: together is faster).
 * Greedy by default (`--temperature`, seeded when above 0), `ignore_eos` so every request writes
 * `--max-tokens` tokens (the grammar allows trailing newlines after the document), the byte tokens
 * 0x80–0xFF banned in every mode (random weights emit invalid UTF-8; the grammar never admits them).
 * `--in-process`: the same jobs on the native loop in this process (no serve-llm, no HTTP, prompts of
 * word token ids): the sampling cost alone; CPU is this process's, and the grammar's retries are
 * counted (the loop's stats).
 *
 * options: --rounds 3  --clients 4  --max-tokens 64  --prompt-words 32  --threads 2  --parallel 4
 *          --context-size 1024  --temperature 0  --engine native  --model <gguf>  --in-process  --json
 */
import { TINY_MODEL_PRESETS, tinyModelPath } from "../../src/gguf/index.js";
import { jsonSchemaToGbnf } from "../../src/llm/grammar/json-schema-gbnf.js";
import {
  type LlmBenchOptions,
  llmBenchOptions,
  numberAtLeast,
  oneOf,
  parseBenchOptions,
  positiveInteger,
  switchOn,
} from "../support/bench-options.js";
import { makePrompts, sumOverRotatingRounds } from "../support/completion-load.js";
import { ensureNativeAddon } from "../support/local-llama-build.js";
import { openNativeLoopLoad, tokenPrompts } from "../support/native-loop-load.js";
import { processCpuSeconds } from "../support/process-cpu.js";
import { startServeLlm } from "../support/serve-llm.js";

export const name = "grammar";
export const description = "json_schema (grammar) requests: sequential vs concurrent, against the same without grammar";

const SHARED = ["rounds", "maxTokens", "promptWords", "threads", "parallel", "contextSize", "model", "json"] as const;
type Options = Pick<LlmBenchOptions, (typeof SHARED)[number]> & {
  clients: number;
  temperature: number;
  engine: string;
  inProcess: boolean;
};

/** A document that keeps the grammar busy for the whole request: strings, numbers, a list. */
const SCHEMA = {
  type: "object",
  properties: {
    title: { type: "string", maxLength: 80 },
    score: { type: "number" },
    tags: { type: "array", items: { type: "string", maxLength: 24 }, maxItems: 8 },
    count: { type: "integer", minimum: 0 },
  },
  required: ["title", "score", "tags", "count"],
  additionalProperties: false,
};

function parseOptions(args: string[]): Options {
  const shared = llmBenchOptions(...SHARED);
  return parseBenchOptions<Options>(
    args,
    { ...shared.defaults, contextSize: 1024, clients: 4, temperature: 0, engine: "native", inProcess: false },
    {
      "--clients": ["clients", positiveInteger],
      "--temperature": ["temperature", numberAtLeast(0)],
      "--engine": ["engine", oneOf("native", "node-llama-cpp")],
      "--in-process": ["inProcess", switchOn],
      ...shared.flags,
    },
  );
}

/** The generated vocabulary's byte tokens 0x80–0xFF (ids 5 + byte, src/gguf/vocabulary.ts), banned. */
const NON_ASCII_BYTE_TOKENS: readonly number[] = Array.from({ length: 0x80 }, (_, index) => 5 + 0x80 + index);

type Mode = "json_schema sequential" | "json_schema concurrent" | "plain sequential" | "plain concurrent";
const MODES: Mode[] = ["json_schema sequential", "json_schema concurrent", "plain sequential", "plain concurrent"];

type Answer = { tokens: number; content: string };

async function chat(url: string, body: Record<string, unknown>): Promise<Answer> {
  const response = await fetch(`${url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`request failed: ${response.status} ${await response.text()}`);
  const answer = (await response.json()) as {
    usage: { completion_tokens: number };
    choices: Array<{ message: { content: string | null } }>;
  };
  return { tokens: answer.usage.completion_tokens, content: answer.choices[0]?.message.content ?? "" };
}

type Sample = { tokens: number; ms: number; cpu: number };
/** Runs one mode's requests on one round's prompts (a seed). */
type Executor = { runMode(mode: Mode, seed: number): Promise<Sample>; notes(): string[]; close(): Promise<void> };

async function httpExecutor(options: Options, modelPath: string): Promise<Executor> {
  const server = await startServeLlm({
    modelPath,
    parallel: options.parallel,
    threads: options.threads,
    contextSize: options.contextSize,
    extraArgs: ["--engine", options.engine, "--request-timeout", "600"],
  });
  const logitBias = Object.fromEntries(NON_ASCII_BYTE_TOKENS.map((token) => [String(token), -100]));
  const bodyFor = (mode: Mode, prompt: string, index: number): Record<string, unknown> => ({
    messages: [{ role: "user", content: prompt }],
    max_tokens: options.maxTokens,
    temperature: options.temperature,
    ...(options.temperature > 0 ? { seed: 11 + index } : {}),
    ignore_eos: true,
    cache_prompt: false,
    logit_bias: logitBias,
    ...(mode.startsWith("json_schema")
      ? { response_format: { type: "json_schema", json_schema: { name: "bench", schema: SCHEMA } } }
      : {}),
  });
  const pid = server.process.pid;
  if (pid === undefined) throw new Error("serve-llm has no process id");
  return {
    async runMode(mode, seed) {
      const prompts = makePrompts(options.clients, options.promptWords, seed);
      const bodies = prompts.map((prompt, index) => bodyFor(mode, prompt, index));
      const cpuBefore = await processCpuSeconds(pid);
      const started = performance.now();
      const answers: Answer[] = [];
      if (mode.endsWith("concurrent"))
        answers.push(...(await Promise.all(bodies.map((body) => chat(server.url, body)))));
      else for (const body of bodies) answers.push(await chat(server.url, body));
      const ms = performance.now() - started;
      const cpu = (await processCpuSeconds(pid)) - cpuBefore;
      if (mode.startsWith("json_schema")) {
        // A document cut by max_tokens may be incomplete; what was written must still be JSON-shaped.
        for (const answer of answers) {
          if (!answer.content.trimStart().startsWith("{")) throw new Error(`not a JSON document: ${answer.content}`);
        }
      }
      return { tokens: answers.reduce((sum, answer) => sum + answer.tokens, 0), ms, cpu };
    },
    notes: () => [],
    close: () => server.stop(),
  };
}

async function inProcessExecutor(options: Options, modelPath: string): Promise<Executor> {
  const load = await openNativeLoopLoad({
    modelPath,
    sequences: options.parallel,
    threads: options.threads,
    contextSize: options.contextSize,
  });
  const grammar = jsonSchemaToGbnf(SCHEMA);
  const bias = Float64Array.from(NON_ASCII_BYTE_TOKENS.flatMap((token) => [token, Number.NEGATIVE_INFINITY]));
  const vocabularySize = TINY_MODEL_PRESETS["bench-66m"].vocabularySize;
  const before = load.stats();
  return {
    async runMode(mode, seed) {
      const prompts = tokenPrompts(options.clients, options.promptWords, seed, vocabularySize);
      const params = {
        maxTokens: options.maxTokens,
        temperature: options.temperature,
        ...(options.temperature > 0 ? { seed: 11 + seed } : {}),
        ignoreEos: true,
        cachePrompt: false,
        logitBias: bias,
        ...(mode.startsWith("json_schema") ? { grammar } : {}),
      };
      const cpuBefore = process.cpuUsage();
      const started = performance.now();
      const tokens = await load.run(prompts, params, mode.endsWith("concurrent"));
      const ms = performance.now() - started;
      const cpu = process.cpuUsage(cpuBefore);
      return { tokens, ms, cpu: (cpu.user + cpu.system) / 1e6 };
    },
    notes() {
      const stats = load.stats();
      const sampled = stats.grammarTokens - before.grammarTokens;
      const retries = stats.grammarRetries - before.grammarRetries;
      // An addon built before these counters existed reports neither.
      if (!Number.isFinite(sampled) || !Number.isFinite(retries)) return [];
      return [`  grammar refused the first choice of ${retries} of ${sampled} constrained tokens`];
    },
    close: () => load.close(),
  };
}

export async function run(args: string[]): Promise<void> {
  const options = parseOptions(args);
  if (options.engine === "native") await ensureNativeAddon((message) => process.stderr.write(`${message}\n`));
  if (options.inProcess && options.engine !== "native") throw new Error("--in-process drives the native loop only");
  const modelPath = options.model ?? (await tinyModelPath("bench-66m"));
  const executor = options.inProcess
    ? await inProcessExecutor(options, modelPath)
    : await httpExecutor(options, modelPath);
  try {
    await executor.runMode("json_schema concurrent", 999); // warm-up
    const totals = await sumOverRotatingRounds(MODES, options.rounds, (mode, seed) => executor.runMode(mode, seed));
    const total = (mode: Mode) => totals.get(mode) ?? { tokens: 0, ms: 1, cpu: 0 };
    const rate = (mode: Mode): number => (total(mode).tokens * 1000) / total(mode).ms;
    const cpuPerToken = (mode: Mode): number => (total(mode).cpu * 1000) / total(mode).tokens;
    const result = {
      model: modelPath,
      engine: options.engine,
      inProcess: options.inProcess,
      rounds: options.rounds,
      clients: options.clients,
      maxTokens: options.maxTokens,
      temperature: options.temperature,
      wallSeconds: Object.fromEntries(MODES.map((mode) => [mode, total(mode).ms / 1000 / options.rounds])),
      tokensPerSecond: Object.fromEntries(MODES.map((mode) => [mode, rate(mode)])),
      cpuMsPerToken: Object.fromEntries(MODES.map((mode) => [mode, cpuPerToken(mode)])),
      grammarConcurrentOverSequential: total("json_schema concurrent").ms / total("json_schema sequential").ms,
      plainConcurrentOverSequential: total("plain concurrent").ms / total("plain sequential").ms,
      grammarOverPlainConcurrent: rate("json_schema concurrent") / rate("plain concurrent"),
    };
    if (options.json) {
      process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
      return;
    }
    process.stdout.write(
      [
        `grammar: ${options.engine}${options.inProcess ? " in-process" : ""}, ${options.clients} requests of ${options.maxTokens} tokens, ${options.rounds} rounds, temperature ${options.temperature}`,
        ...MODES.map(
          (mode) =>
            `  ${mode.padEnd(24)} ${(total(mode).ms / 1000 / options.rounds).toFixed(2)} s per ${options.clients} requests  ${rate(mode).toFixed(1)} tok/s  ${options.inProcess ? "CPU" : "server CPU"} ${cpuPerToken(mode).toFixed(1)} ms/token`,
        ),
        `  concurrent ÷ sequential wall time: json_schema ${result.grammarConcurrentOverSequential.toFixed(2)}  plain ${result.plainConcurrentOverSequential.toFixed(2)}`,
        `  json_schema ÷ plain tok/s (concurrent) ${result.grammarOverPlainConcurrent.toFixed(2)}`,
        ...executor.notes(),
        "",
      ].join("\n"),
    );
  } finally {
    await executor.close();
  }
}
