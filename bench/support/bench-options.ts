/**
 * The command-line options of a bench suite (`npm run bench -- <suite> [options]`), declared once:
 * each flag names the option it sets and how its value is read. A value that does not fit, a
 * missing value or an unknown flag stops the suite before it starts anything with a line naming
 * the flag (an unknown one: then the suite's options with their defaults); bench/index.ts prints it
 * without a stack, exit code 2. `--help` prints the options (exit code 0).
 */

/** How one flag's value is read; `value` is how help shows it ("<n>"), absent for a switch. */
export type OptionReader<V> = { value?: string; read(text: string, flag: string): V };

/** A bad option or `--help`: bench/index.ts prints the message alone (no stack). */
export class BenchOptionsError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

const refuse = (message: string): never => {
  throw new BenchOptionsError(message, 2);
};

export const switchOn: OptionReader<boolean> = { read: () => true };

export const positiveInteger: OptionReader<number> = {
  value: "<n>",
  read(text, flag) {
    const parsed = Number(text);
    return Number.isInteger(parsed) && parsed >= 1 ? parsed : refuse(`${flag} needs a positive integer (got ${text})`);
  },
};

export const nonNegativeInteger: OptionReader<number> = {
  value: "<n>",
  read(text, flag) {
    const parsed = Number(text);
    return Number.isInteger(parsed) && parsed >= 0 ? parsed : refuse(`${flag} needs an integer ≥ 0 (got ${text})`);
  },
};

/** A comma-separated list of positive integers: "1,4,8". */
export const positiveIntegers: OptionReader<number[]> = {
  value: "<n,n,...>",
  read(text, flag) {
    const parsed = text.split(",").map((part) => Number(part));
    return parsed.every((level) => Number.isInteger(level) && level >= 1)
      ? parsed
      : refuse(`${flag} needs positive integers, e.g. 1,4,8 (got ${text})`);
  },
};

export function numberAtLeast(minimum: number): OptionReader<number> {
  return {
    value: "<number>",
    read(text, flag) {
      const parsed = Number(text);
      return Number.isFinite(parsed) && parsed >= minimum
        ? parsed
        : refuse(`${flag} needs a number ≥ ${minimum} (got ${text})`);
    },
  };
}

export function oneOf<const C extends string>(...choices: C[]): OptionReader<C> {
  return {
    value: `<${choices.join("|")}>`,
    read: (text, flag) =>
      (choices as string[]).includes(text) ? (text as C) : refuse(`${flag} needs one of ${choices.join(", ")}`),
  };
}

export const text: OptionReader<string> = { value: "<text>", read: (value) => value };

/** A URL, without trailing slashes. */
export const url: OptionReader<string> = { value: "<url>", read: (value) => value.replace(/\/+$/, "") };

/** Space-separated words, e.g. extra flags for a server: "--foo 1 --bar". */
export const words: OptionReader<string[]> = {
  value: '"<words>"',
  read: (value) => value.split(/\s+/).filter(Boolean),
};

/** Flag → [the option it sets, its reader]; the reader's value type must fit the option's. */
export type OptionFlags<O> = Record<string, { [K in keyof O]: readonly [K, OptionReader<O[K]>] }[keyof O]>;

function shown(value: unknown): string {
  if (value === undefined || (Array.isArray(value) && value.length === 0)) return "none";
  if (Array.isArray(value)) return value.join(",");
  return String(value);
}

/** The suite's options, one per line, with their defaults. */
export function benchOptionsHelp<O extends object>(defaults: O, flags: OptionFlags<O>): string {
  const rows = Object.entries(flags).map(([flag, [key, reader]]) =>
    reader.value === undefined ? { name: flag } : { name: `${flag} ${reader.value}`, value: shown(defaults[key]) },
  );
  const width = Math.max(...rows.map((row) => row.name.length)) + 2;
  return rows
    .map((row) => (row.value === undefined ? `  ${row.name}` : `  ${row.name.padEnd(width)}default: ${row.value}`))
    .join("\n");
}

/** `defaults` with the options `args` sets; throws BenchOptionsError for --help and for a bad option. */
export function parseBenchOptions<O extends object>(args: readonly string[], defaults: O, flags: OptionFlags<O>): O {
  const options: O = { ...defaults };
  const usage = () => `options:\n${benchOptionsHelp(defaults, flags)}`;
  for (let index = 0; index < args.length; index += 1) {
    const flag = args[index] ?? "";
    if (flag === "--help" || flag === "-h") throw new BenchOptionsError(usage(), 0);
    const entry = flags[flag];
    if (entry === undefined) throw new BenchOptionsError(`unknown option ${flag}; ${usage()}`, 2);
    const [key, reader] = entry;
    if (reader.value === undefined) {
      options[key] = reader.read("", flag);
      continue;
    }
    const value = args[index + 1];
    if (value === undefined) throw new BenchOptionsError(`${flag} needs a value ${reader.value}`, 2);
    options[key] = reader.read(value, flag);
    index += 1;
  }
  return options;
}

/**
 * The options the LLM suites share: one flag, one reader and one default each (a suite overrides a
 * default by spreading its own value after them).
 */
export type LlmBenchOptions = {
  runs: number;
  rounds: number;
  concurrency: number[];
  requestsPerClient: number;
  maxTokens: number;
  promptWords: number;
  threads: number;
  parallel: number;
  contextSize: number;
  model: string | undefined;
  serveArgs: string[];
  vsLlamaServer: boolean;
  prebuilt: boolean;
  json: boolean;
};

type LlmBenchOption<K extends keyof LlmBenchOptions> = {
  flag: string;
  reader: OptionReader<LlmBenchOptions[K]>;
  default: () => LlmBenchOptions[K];
};

const LLM_BENCH_OPTIONS: { [K in keyof LlmBenchOptions]: LlmBenchOption<K> } = {
  runs: { flag: "--runs", reader: positiveInteger, default: () => 2 },
  rounds: { flag: "--rounds", reader: positiveInteger, default: () => 3 },
  concurrency: { flag: "--concurrency", reader: positiveIntegers, default: () => [1, 4, 8] },
  requestsPerClient: { flag: "--requests-per-client", reader: positiveInteger, default: () => 3 },
  maxTokens: { flag: "--max-tokens", reader: positiveInteger, default: () => 64 },
  promptWords: { flag: "--prompt-words", reader: positiveInteger, default: () => 32 },
  threads: { flag: "--threads", reader: positiveInteger, default: () => 2 },
  parallel: { flag: "--parallel", reader: positiveInteger, default: () => 4 },
  contextSize: { flag: "--context-size", reader: positiveInteger, default: () => 512 },
  model: { flag: "--model", reader: text, default: () => undefined },
  serveArgs: { flag: "--serve-args", reader: words, default: () => [] },
  vsLlamaServer: { flag: "--vs-llama-server", reader: switchOn, default: () => false },
  prebuilt: { flag: "--prebuilt", reader: switchOn, default: () => false },
  json: { flag: "--json", reader: switchOn, default: () => false },
};

/**
 * The shared options `keys` of a suite, in that order: their defaults, and their flags to spread
 * into the suite's own flags (help lists flags in the order they are spread).
 */
export function llmBenchOptions<K extends keyof LlmBenchOptions>(
  ...keys: K[]
): { defaults: Pick<LlmBenchOptions, K>; flags: OptionFlags<Pick<LlmBenchOptions, K>> } {
  const defaults = {} as Pick<LlmBenchOptions, K>;
  const flags: OptionFlags<Pick<LlmBenchOptions, K>> = {};
  for (const key of keys) {
    const option = LLM_BENCH_OPTIONS[key] as LlmBenchOption<K>;
    defaults[key] = option.default() as Pick<LlmBenchOptions, K>[K];
    flags[option.flag] = [key, option.reader] as OptionFlags<Pick<LlmBenchOptions, K>>[string];
  }
  return { defaults, flags };
}
