/**
 * `npm run bench -- startup [--runs N] [--source] [--baseline <root>] [--serve-only] [--cpu] [--json]`
 * Start-up of the `llm-twin` command as a user meets it: wall time of `node -e 0` (the floor),
 * `llm-twin --version`, `llm-twin --help` and `<command> --help` of every command, then the time
 * from spawning `llm-twin serve` (generated tiny chat model, an existing LanceDB store filled once
 * from sample-data beforehand, static embedder) until `GET /ready` answers 200. Median and min of
 * N runs each. Runs the compiled build (building dist/ first when it is missing or older than the
 * sources); `--source` runs the sources through tsx instead (LLM_TWIN_FROM_SOURCE=1).
 * `--baseline <root>`: another build to compare with (a folder holding its bin/, dist/ and
 * package.json, with node_modules and native/build/Release linked in): its runs (`--help` of each
 * command, `serve`) alternate with this one's in the same loop, and the ratios of the medians are printed. `--serve-only` skips
 * the `--help` timings. `--cpu`: also the CPU seconds of each `serve` run until /ready, split at
 * node-llama-cpp's binary test (main thread before its fork, during it, after it; the test's child
 * process), and the critical path they imply on an idle 2-core machine, where the test's child and
 * the main thread run side by side: before + max(during, child) + after.
 */
import { spawn, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { tinyModelPath } from "../../src/gguf/index.js";
import { freePort } from "../../src/testing/free-port.js";
import { statCpuSeconds } from "../support/process-cpu.js";

export const name = "startup";
export const description = "Start-up: --help of every command, and `serve` until /ready (tiny model, existing store)";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const BIN = join(ROOT, "bin/llm-twin.js");

function option(args: string[], flag: string, fallback: number): number {
  const position = args.indexOf(flag);
  const value = position === -1 ? undefined : Number(args[position + 1]);
  return value !== undefined && Number.isInteger(value) && value > 0 ? value : fallback;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((left, right) => left - right);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

function timed(args: readonly string[], env: NodeJS.ProcessEnv): { ms: number; stdout: string } {
  const start = performance.now();
  const result = spawnSync(process.execPath, args, { env, encoding: "utf8" });
  const ms = performance.now() - start;
  if (result.status !== 0) throw new Error(`node ${args.join(" ")} failed (${result.status}):\n${result.stderr}`);
  return { ms, stdout: result.stdout };
}

/** Spawns `llm-twin serve` and resolves with the milliseconds until /ready answers 200. */
async function serveReadyMs(
  bin: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  port: number,
  cpu?: { preload: string; samples: CpuSample[] },
): Promise<number> {
  const start = performance.now();
  const marks = cpu === undefined ? undefined : `${cpu.preload}.${port}.json`;
  const child = spawn(
    process.execPath,
    [...(cpu === undefined ? [] : ["--require", cpu.preload]), bin, "serve", ...args, "--port", String(port)],
    { env: marks === undefined ? env : { ...env, LLM_TWIN_BENCH_MARKS: marks }, stdio: ["ignore", "ignore", "pipe"] },
  );
  let atReady: { process: number; children: number; main: number } | undefined;
  let output = "";
  child.stderr.on("data", (chunk: Buffer) => {
    output = (output + chunk.toString("utf8")).slice(-4000);
  });
  let exited = false;
  const ended = new Promise<void>((resolve) =>
    child.once("exit", () => {
      exited = true;
      resolve();
    }),
  );
  try {
    const deadline = Date.now() + 120_000;
    while (Date.now() < deadline) {
      if (exited) throw new Error(`llm-twin serve exited before it was ready:\n${output}`);
      try {
        const response = await fetch(`http://127.0.0.1:${port}/ready`);
        await response.body?.cancel();
        if (response.status === 200) {
          const ms = performance.now() - start;
          if (cpu !== undefined && child.pid !== undefined) atReady = cpuAtReady(child.pid);
          return ms;
        }
      } catch {
        // not listening yet
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    throw new Error(`llm-twin serve was not ready within 120 s:\n${output}`);
  } finally {
    if (!exited) child.kill("SIGTERM");
    await ended;
    if (cpu !== undefined && marks !== undefined && atReady !== undefined) {
      const at = JSON.parse(readFileSync(marks, "utf8")) as { fork?: number; testExit?: number };
      if (at.fork !== undefined && at.testExit !== undefined) {
        cpu.samples.push({
          beforeFork: at.fork,
          duringTest: at.testExit - at.fork,
          afterTest: atReady.main - at.testExit,
          testChild: atReady.children,
          process: atReady.process,
        });
      }
    }
  }
}

type CpuSample = { beforeFork: number; duringTest: number; afterTest: number; testChild: number; process: number };

function cpuAtReady(pid: number): { process: number; children: number; main: number } {
  const all = statCpuSeconds(`/proc/${pid}/stat`);
  return {
    process: all.own + all.children,
    children: all.children,
    main: statCpuSeconds(`/proc/${pid}/task/${pid}/stat`).own,
  };
}

/** Preloaded (CommonJS: no ES module loading, so libuv's pool size is still the bin's to set) into `serve`. */
const MARKS_PRELOAD = `
const { subscribe } = require("node:diagnostics_channel");
const { readFileSync, writeFileSync } = require("node:fs");
const mainCpu = () => {
  const text = readFileSync("/proc/self/task/" + process.pid + "/stat", "utf8");
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ").map(Number);
  return (fields[11] + fields[12]) / 100;
};
const marks = {};
subscribe("child_process", ({ process: child }) => {
  if (marks.fork !== undefined) return;
  marks.fork = mainCpu();
  child.once("exit", () => { marks.testExit = mainCpu(); });
});
process.on("exit", () => writeFileSync(process.env.LLM_TWIN_BENCH_MARKS, JSON.stringify(marks)));
`;

function commandsOf(helpText: string): string[] {
  const section = helpText.split(/^Commands:$/m)[1] ?? "";
  return [...section.matchAll(/^ {2}([a-z][a-z-]*)/gm)]
    .map((match) => match[1] ?? "")
    .filter((command) => command !== "help" && command !== "");
}

export async function run(args: string[]): Promise<void> {
  const runs = option(args, "--runs", 5);
  const fromSource = args.includes("--source");
  const env: NodeJS.ProcessEnv = { ...process.env, LANCEDB_LOG: "error", LLM_TWIN_FROM_SOURCE: fromSource ? "1" : "0" };
  if (!fromSource) {
    // The bin runs dist/ only when it is newer than every source: build it first.
    const build = spawnSync(process.execPath, [join(ROOT, "scripts/build-dist.mjs")], {
      cwd: ROOT,
      stdio: ["ignore", "ignore", "inherit"],
    });
    if (build.status !== 0) throw new Error("npm run build failed");
  }
  const help = timed([BIN, "--help"], env).stdout;
  const cases: Array<{ label: string; args: string[] }> = [
    { label: "node -e 0", args: ["-e", "0"] },
    { label: "llm-twin --version", args: [BIN, "--version"] },
    { label: "llm-twin --help", args: [BIN, "--help"] },
    ...commandsOf(help).map((command) => ({ label: `llm-twin ${command} --help`, args: [BIN, command, "--help"] })),
  ];
  const position = args.indexOf("--baseline");
  const baseline = position === -1 ? undefined : args[position + 1];
  const baselineBin = baseline === undefined ? undefined : join(baseline, "bin/llm-twin.js");
  const rows: Array<{ label: string; medianMs: number; minMs: number; baselineMedianMs?: number }> = [];
  for (const item of args.includes("--serve-only") ? [] : cases) {
    // With --baseline, each run of this build alternates with one of the baseline's (same arguments).
    const baselineArgs =
      baselineBin === undefined ? undefined : item.args.map((arg) => (arg === BIN ? baselineBin : arg));
    const samples: number[] = [];
    const baselineSamples: number[] = [];
    for (let index = 0; index < runs; index += 1) {
      if (baselineArgs !== undefined && item.args.includes(BIN)) baselineSamples.push(timed(baselineArgs, env).ms);
      samples.push(timed(item.args, env).ms);
    }
    rows.push({
      label: item.label,
      medianMs: median(samples),
      minMs: Math.min(...samples),
      ...(baselineSamples.length === 0 ? {} : { baselineMedianMs: median(baselineSamples) }),
    });
  }

  let ratio: number | undefined;
  const thisCpu: CpuSample[] = [];
  const baselineCpu: CpuSample[] = [];
  const folder = await mkdtemp(join(tmpdir(), "llm-twin-bench-startup-"));
  try {
    const model = await tinyModelPath("chat");
    const store = `lancedb:${join(folder, "store")}`;
    const ingest = spawnSync(
      process.execPath,
      [BIN, "ingest", join(ROOT, "sample-data"), "--store", store, "--no-artifacts"],
      {
        env: { ...env, LLM_TWIN_PROGRESS: "none" },
        stdio: ["ignore", "ignore", "inherit"],
      },
    );
    if (ingest.status !== 0) throw new Error("ingesting sample-data failed");
    const serveArgs = ["--model", model, "--store", store, "--no-ingest", "--parallel", "1", "--log-level", "warn"];
    const samples: number[] = [];
    const baselineSamples: number[] = [];
    let preload: string | undefined;
    if (args.includes("--cpu")) {
      preload = join(folder, "marks.cjs");
      await writeFile(preload, MARKS_PRELOAD);
    }
    const cpuOf = (samplesOf: CpuSample[]) => (preload === undefined ? undefined : { preload, samples: samplesOf });
    for (let index = 0; index < runs; index += 1) {
      if (baselineBin !== undefined) {
        baselineSamples.push(await serveReadyMs(baselineBin, serveArgs, env, await freePort(), cpuOf(baselineCpu)));
      }
      samples.push(await serveReadyMs(BIN, serveArgs, env, await freePort(), cpuOf(thisCpu)));
    }
    rows.push({ label: "llm-twin serve until /ready", medianMs: median(samples), minMs: Math.min(...samples) });
    if (baselineBin !== undefined) {
      const medianMs = median(baselineSamples);
      rows.push({ label: "baseline serve until /ready", medianMs, minMs: Math.min(...baselineSamples) });
      ratio = median(samples) / medianMs;
    }
  } finally {
    await rm(folder, { recursive: true, force: true });
  }

  const load = loadavg().map((value) => value.toFixed(2));
  if (args.includes("--json")) {
    process.stdout.write(
      `${JSON.stringify({ runs, fromSource, loadAverage: load, rows, ...(ratio === undefined ? {} : { ratio }), ...(thisCpu.length === 0 ? {} : { cpu: cpuMedians(thisCpu), ...(baselineCpu.length === 0 ? {} : { baselineCpu: cpuMedians(baselineCpu) }) }) })}\n`,
    );
    return;
  }
  process.stdout.write(
    `${fromSource ? "sources through tsx" : "compiled dist/"}, ${runs} runs, load ${load.join(" ")}\n`,
  );
  const compared = baselineBin !== undefined && rows.some((row) => row.baselineMedianMs !== undefined);
  const header = compared ? ` ${"baseline median s".padStart(18)} ${"ratio".padStart(6)}` : "";
  process.stdout.write(`${"".padEnd(34)} ${"median s".padStart(9)} ${"min s".padStart(7)}${header}\n`);
  for (const row of rows) {
    const versus =
      row.baselineMedianMs === undefined
        ? ""
        : ` ${(row.baselineMedianMs / 1000).toFixed(3).padStart(18)} ${(row.medianMs / row.baselineMedianMs).toFixed(2).padStart(6)}`;
    process.stdout.write(
      `${row.label.padEnd(34)} ${(row.medianMs / 1000).toFixed(3).padStart(9)} ${(row.minMs / 1000).toFixed(3).padStart(7)}${versus}\n`,
    );
  }
  if (ratio !== undefined) process.stdout.write(`serve until /ready, this ÷ baseline (medians): ${ratio.toFixed(2)}\n`);
  for (const [label, cpu] of [
    ["this build", thisCpu],
    ["baseline", baselineCpu],
  ] as const) {
    if (cpu.length === 0) continue;
    const m = cpuMedians(cpu);
    process.stdout.write(
      `serve CPU s until /ready, ${label} (medians of ${cpu.length}): main thread before the binary test's fork ${m.beforeFork.toFixed(2)}, during it ${m.duringTest.toFixed(2)}, after it ${m.afterTest.toFixed(2)}; test child ${m.testChild.toFixed(2)}; whole process ${m.process.toFixed(2)}; critical path on 2 idle cores ${m.criticalPath.toFixed(2)}\n`,
    );
  }
}

function cpuMedians(samples: readonly CpuSample[]): Record<keyof CpuSample | "criticalPath", number> {
  const of = (pick: (sample: CpuSample) => number) => median(samples.map(pick));
  return {
    beforeFork: of((sample) => sample.beforeFork),
    duringTest: of((sample) => sample.duringTest),
    afterTest: of((sample) => sample.afterTest),
    testChild: of((sample) => sample.testChild),
    process: of((sample) => sample.process),
    criticalPath: of((sample) => sample.beforeFork + Math.max(sample.duringTest, sample.testChild) + sample.afterTest),
  };
}
