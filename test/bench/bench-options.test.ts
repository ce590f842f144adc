/** The option parser the LLM bench suites share (bench/support/bench-options.ts). */
import { describe, expect, it } from "vitest";
import {
  BenchOptionsError,
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
