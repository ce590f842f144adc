/** The option parser the LLM bench suites share (bench/support/bench-options.ts). */
import { describe, expect, it } from "vitest";
import {
  BenchOptionsError,
  benchOptionsHelp,
  llmBenchOptions,
  nonNegativeInteger,
  numberAtLeast,
  oneOf,
  parseBenchOptions,
  positiveInteger,
  positiveIntegers,
  switchOn,
  text,
  url,
  words,
} from "../../bench/support/bench-options.js";

type Options = {
  runs: number;
  concurrency: number[];
  temperature: number;
  engine: string;
  model: string | undefined;
  oursUrl: string | undefined;
  serveArgs: string[];
  json: boolean;
};

const defaults: Options = {
  runs: 2,
  concurrency: [1, 4, 8],
  temperature: 0,
  engine: "native",
  model: undefined,
  oursUrl: undefined,
  serveArgs: [],
  json: false,
};

const parse = (...args: string[]) =>
  parseBenchOptions(args, defaults, {
    "--runs": ["runs", positiveInteger],
    "--concurrency": ["concurrency", positiveIntegers],
    "--temperature": ["temperature", numberAtLeast(0)],
    "--engine": ["engine", oneOf("native", "node-llama-cpp")],
    "--model": ["model", text],
    "--ours-url": ["oursUrl", url],
    "--serve-args": ["serveArgs", words],
    "--json": ["json", switchOn],
  });

const failure = (...args: string[]): BenchOptionsError => {
  try {
    parse(...args);
  } catch (error) {
    if (error instanceof BenchOptionsError) return error;
    throw error;
  }
  throw new Error(`no error for ${args.join(" ")}`);
};

describe("parseBenchOptions", () => {
  it("gives the defaults without arguments, and does not change them", () => {
    expect(parse()).toEqual(defaults);
    parse("--runs", "5", "--json");
    expect(defaults.runs).toBe(2);
    expect(defaults.json).toBe(false);
  });

  it("reads every kind of value", () => {
    expect(
      parse(
        "--runs",
        "5",
        "--concurrency",
        "1,2",
        "--temperature",
        "0.7",
        "--engine",
        "node-llama-cpp",
        "--model",
        "m.gguf",
        "--ours-url",
        "http://127.0.0.1:8080//",
        "--serve-args",
        " --parallel 2  --threads 1 ",
        "--json",
      ),
    ).toEqual({
      runs: 5,
      concurrency: [1, 2],
      temperature: 0.7,
      engine: "node-llama-cpp",
      model: "m.gguf",
      oursUrl: "http://127.0.0.1:8080",
      serveArgs: ["--parallel", "2", "--threads", "1"],
      json: true,
    });
  });

  it("refuses a bad value, naming the flag (exit code 2)", () => {
    expect(failure("--runs", "0")).toMatchObject({ message: "--runs needs a positive integer (got 0)", exitCode: 2 });
    expect(failure("--runs", "two").message).toBe("--runs needs a positive integer (got two)");
    expect(failure("--concurrency", "1,x").message).toBe("--concurrency needs positive integers, e.g. 1,4,8 (got 1,x)");
    expect(failure("--temperature", "-1").message).toBe("--temperature needs a number ≥ 0 (got -1)");
    expect(failure("--engine", "gpu").message).toBe("--engine needs one of native, node-llama-cpp");
    expect(failure("--model").message).toBe("--model needs a value <text>");
  });

  it("reads a count that may be 0 (a warm-up that can be turned off), and refuses the rest", () => {
    const warmup = (value: string) =>
      parseBenchOptions(["--warmup", value], { warmup: 2 }, { "--warmup": ["warmup", nonNegativeInteger] });
    expect(warmup("0")).toEqual({ warmup: 0 });
    expect(warmup("3")).toEqual({ warmup: 3 });
    expect(() => warmup("-1")).toThrow("--warmup needs an integer ≥ 0 (got -1)");
    expect(() => warmup("1.5")).toThrow("--warmup needs an integer ≥ 0 (got 1.5)");
  });

  it("refuses an unknown option, listing the options with their defaults", () => {
    const error = failure("--runz", "3");
    expect(error.exitCode).toBe(2);
    const [first, ...rest] = error.message.split("\n");
    expect(first).toBe("unknown option --runz; options:");
    expect(rest).toContainEqual(expect.stringMatching(/^ {2}--runs <n> +default: 2$/));
    expect(rest).toContainEqual(expect.stringMatching(/^ {2}--concurrency <n,n,...> +default: 1,4,8$/));
    expect(rest).toContainEqual(expect.stringMatching(/^ {2}--model <text> +default: none$/));
    expect(rest).toContain("  --json");
  });

  it("--help gives the options list with exit code 0", () => {
    const error = failure("--json", "--help");
    expect(error.exitCode).toBe(0);
    expect(error.message.split("\n")[0]).toBe("options:");
  });

  it("checks at compile time that a reader fits its option", () => {
    // @ts-expect-error: a list of words cannot set a number
    parseBenchOptions([], defaults, { "--runs": ["runs", words] });
    // @ts-expect-error: not an option of this suite
    parseBenchOptions([], defaults, { "--rank": ["rank", positiveInteger] });
  });
});

describe("llmBenchOptions", () => {
  it("gives the shared options asked for, in that order, with their defaults and flags", () => {
    const shared = llmBenchOptions("maxTokens", "serveArgs", "json");
    expect(shared.defaults).toEqual({ maxTokens: 64, serveArgs: [], json: false });
    expect(Object.keys(shared.flags)).toEqual(["--max-tokens", "--serve-args", "--json"]);
    expect(benchOptionsHelp(shared.defaults, shared.flags).split("\n")).toEqual([
      "  --max-tokens <n>        default: 64",
      '  --serve-args "<words>"  default: none',
      "  --json",
    ]);
  });

  it("parses shared flags beside a suite's own, over the suite's defaults", () => {
    const shared = llmBenchOptions("maxTokens", "contextSize", "model", "prebuilt");
    const parse = (...args: string[]) =>
      parseBenchOptions(
        args,
        { ...shared.defaults, contextSize: 2048, rank: 8 },
        {
          "--rank": ["rank", positiveInteger],
          ...shared.flags,
        },
      );
    expect(parse()).toEqual({ maxTokens: 64, contextSize: 2048, model: undefined, prebuilt: false, rank: 8 });
    expect(parse("--max-tokens", "8", "--model", "m.gguf", "--prebuilt", "--rank", "4")).toEqual({
      maxTokens: 8,
      contextSize: 2048,
      model: "m.gguf",
      prebuilt: true,
      rank: 4,
    });
    expect(() => parse("--max-tokens", "0")).toThrow("--max-tokens needs a positive integer (got 0)");
    expect(() => parse("--threads", "2")).toThrow(/^unknown option --threads;/);
  });

  it("gives each call its own default lists", () => {
    const first = llmBenchOptions("concurrency", "serveArgs");
    first.defaults.concurrency.push(16);
    first.defaults.serveArgs.push("--x");
    expect(llmBenchOptions("concurrency", "serveArgs").defaults).toEqual({ concurrency: [1, 4, 8], serveArgs: [] });
  });

  it("checks at compile time that a key is a shared option", () => {
    // A closure never called: the check is the compiler's.
    // @ts-expect-error: not a shared option
    const unknownKey = () => llmBenchOptions("rank");
    expect(unknownKey).toBeTypeOf("function");
  });
});
