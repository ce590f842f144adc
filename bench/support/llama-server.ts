/**
 * llama.cpp's own `llama-server`, built once from the llama.cpp source that node-llama-cpp ships
 * (`node_modules/node-llama-cpp/llama/gitRelease.bundle`, a git bundle) into
 * `<LLM_TWIN_CACHE_DIR>/llama-server/src/build/bin/llama-server`, outside the repository.
 * A build already running (same layout) is waited for, never duplicated.
 */

import { type ChildProcess, spawn } from "node:child_process";
import { createWriteStream, existsSync } from "node:fs";
import { mkdir, readdir, readFile, readlink, rm, writeFile } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { defaultCacheDirectory } from "../../src/config/paths.js";

export type LlamaServerPaths = { root: string; source: string; build: string; binary: string; log: string };

export const cacheDirectory = defaultCacheDirectory;

export function llamaServerPaths(cacheDir: string = cacheDirectory()): LlamaServerPaths {
  const root = join(cacheDir, "llama-server");
  const source = join(root, "src");
  const build = join(source, "build");
  return { root, source, build, binary: join(build, "bin", "llama-server"), log: join(root, "build.log") };
}

export function gitBundlePath(): string {
  return fileURLToPath(new URL("../../node_modules/node-llama-cpp/llama/gitRelease.bundle", import.meta.url));
}

/** Process ids of running `cmake --build ... --target llama-server` (or their make children) for `build`. */
async function runningBuilds(build: string): Promise<number[]> {
  const found: number[] = [];
  for (const entry of await readdir("/proc").catch(() => [] as string[])) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const commandLine = (await readFile(`/proc/${entry}/cmdline`, "utf8")).split("\0").join(" ");
      if (!/cmake|make/.test(commandLine) || !commandLine.includes("llama-server")) continue;
      const workingDirectory = await readlink(`/proc/${entry}/cwd`);
      if (workingDirectory.startsWith(join(build, "..")) || commandLine.includes(build)) found.push(Number(entry));
    } catch {
      // The process ended or is not ours to inspect.
    }
  }
  return found;
}

function run(command: string, args: string[], options: { cwd: string; log: NodeJS.WritableStream }): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, stdio: ["ignore", "pipe", "pipe"] });
    child.stdout.pipe(options.log, { end: false });
    child.stderr.pipe(options.log, { end: false });
    child.on("error", reject);
    child.on("exit", (code) =>
      code === 0 ? resolve() : reject(new Error(`${command} ${args.join(" ")} exited with ${code}`)),
    );
  });
}

export type EnsureLlamaServerOptions = {
  cacheDir?: string;
  /** Build jobs. Default: the cores available. */
  jobs?: number;
  /** Give up waiting for a build after this long. Default 60 min. */
  timeoutMs?: number;
  report?: (message: string) => void;
};

/** Path of a built llama-server binary: found, waited for (a build in progress), or built now. */
export async function ensureLlamaServer(options: EnsureLlamaServerOptions = {}): Promise<string> {
  const paths = llamaServerPaths(options.cacheDir);
  const report = options.report ?? ((message: string) => process.stderr.write(`${message}\n`));
  const deadline = Date.now() + (options.timeoutMs ?? 60 * 60_000);
  if (existsSync(paths.binary)) return paths.binary;

  if ((await runningBuilds(paths.build)).length > 0) {
    report(`llama-server: a build is already running in ${paths.build}; waiting for it`);
    while ((await runningBuilds(paths.build)).length > 0) {
      if (Date.now() > deadline) throw new Error("timed out waiting for the llama-server build");
      await sleep(10_000);
    }
    if (existsSync(paths.binary)) return paths.binary;
    throw new Error(`the running llama-server build ended without producing ${paths.binary}`);
  }

  const lock = join(paths.root, "build.lock");
  await mkdir(paths.root, { recursive: true });
  try {
    await writeFile(lock, String(process.pid), { flag: "wx" });
  } catch {
    throw new Error(`another process holds ${lock}; wait for it or remove the file if it is stale`);
  }
  const log = createWriteStream(paths.log, { flags: "a" });
  try {
    report(`llama-server: building from ${gitBundlePath()} (log: ${paths.log}; ~15 min on 2 cores)`);
    if (!existsSync(join(paths.source, "CMakeLists.txt"))) {
      await rm(paths.source, { recursive: true, force: true });
      await run("git", ["clone", "--quiet", gitBundlePath(), paths.source], { cwd: paths.root, log });
    }
    await run(
      "cmake",
      [
        "-S",
        paths.source,
        "-B",
        paths.build,
        "-DCMAKE_BUILD_TYPE=Release",
        "-DLLAMA_CURL=OFF",
        "-DGGML_NATIVE=ON",
        "-DLLAMA_BUILD_TESTS=OFF",
        "-DLLAMA_BUILD_EXAMPLES=OFF",
      ],
      { cwd: paths.source, log },
    );
    const jobs = options.jobs ?? availableParallelism();
    await run("cmake", ["--build", paths.build, "--target", "llama-server", "-j", String(jobs)], {
      cwd: paths.source,
      log,
    });
  } finally {
    log.end();
    await rm(lock, { force: true });
  }
  if (!existsSync(paths.binary)) throw new Error(`the build finished without ${paths.binary}; see ${paths.log}`);
  return paths.binary;
}

export type ManagedServer = { url: string; process: ChildProcess; stop(): Promise<void>; output(): string };

/** Spawns a server process and waits until `GET <url><healthPath>` answers 200. */
export async function startServerProcess(options: {
  command: string;
  args: string[];
  url: string;
  env?: NodeJS.ProcessEnv;
  healthPath?: string;
  timeoutMs?: number;
  cwd?: string;
}): Promise<ManagedServer> {
  const child = spawn(options.command, options.args, {
    cwd: options.cwd,
    env: options.env ?? process.env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const keep = (chunk: Buffer): void => {
    output = (output + chunk.toString("utf8")).slice(-20_000);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  let exited = false;
  child.on("exit", () => {
    exited = true;
  });
  const stop = async (): Promise<void> => {
    if (exited) return;
    const ended = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
    await ended;
    clearTimeout(timer);
  };
  const deadline = Date.now() + (options.timeoutMs ?? 120_000);
  for (;;) {
    if (exited) throw new Error(`${options.command} exited before becoming healthy:\n${output.slice(-3000)}`);
    try {
      const response = await fetch(`${options.url}${options.healthPath ?? "/health"}`);
      await response.body?.cancel();
      if (response.status === 200) break;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`${options.command} did not become healthy in time:\n${output.slice(-3000)}`);
    }
    await sleep(200);
  }
  return { url: options.url, process: child, stop, output: () => output };
}

/** Starts llama-server on `port` with `parallel` slots of `contextPerSlot` tokens each. */
export function startLlamaServer(options: {
  binary: string;
  modelPath: string;
  port: number;
  parallel: number;
  threads: number;
  contextPerSlot: number;
  extraArgs?: string[];
}): Promise<ManagedServer> {
  return startServerProcess({
    command: options.binary,
    args: [
      "-m",
      options.modelPath,
      "--host",
      "127.0.0.1",
      "--port",
      String(options.port),
      "-np",
      String(options.parallel),
      "-t",
      String(options.threads),
      "-c",
      String(options.contextPerSlot * options.parallel),
      "--no-webui",
      ...(options.extraArgs ?? []),
    ],
    url: `http://127.0.0.1:${options.port}`,
  });
}
