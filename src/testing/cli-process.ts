/** The real `llm-twin` CLI as a child process in end-to-end tests: spawn it, wait for an HTTP status, stop it. */
import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const BIN = fileURLToPath(new URL("../../bin/llm-twin.js", import.meta.url));

export type CliProcess = { child: ChildProcess; output: () => string; exited: Promise<number | null> };

/** `env` is added to this process's environment; a variable set to undefined is left out. */
export function spawnCli(args: readonly string[], env: Record<string, string | undefined> = {}): CliProcess {
  return spawnNodeScript(BIN, args, {
    env: { ...process.env, LLM_TWIN_FROM_SOURCE: "1", LANCEDB_LOG: "error", ...env },
  });
}

/**
 * `node <script> ...args` with its stdout and stderr collected (an installed package's bin, say);
 * `env` is its whole environment (a variable set to undefined is left out).
 */
export function spawnNodeScript(
  script: string,
  args: readonly string[],
  options: { env: Record<string, string | undefined>; cwd?: string },
): CliProcess {
  const child = spawn(process.execPath, [script, ...args], {
    ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
    env: options.env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return { child, output: () => output, exited };
}

/**
 * Polls `check` until it holds; fails at once when the process exits first, and at the deadline,
 * with the process's output either way.
 */
async function waitUntil(
  process: CliProcess,
  what: string,
  check: () => Promise<boolean>,
  timeoutMs: number,
  intervalMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  void process.exited.then(() => {
    exited = true;
  });
  while (Date.now() < deadline) {
    if (exited) throw new Error(`the process exited before ${what}:\n${process.output()}`);
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  throw new Error(`not within ${timeoutMs} ms: ${what}:\n${process.output()}`);
}

/** Polls `url` until it answers `status` (or the process dies, or the deadline passes). */
export async function waitForStatus(
  url: string,
  status: number,
  process: CliProcess,
  timeoutMs = 90_000,
): Promise<void> {
  const answers = async (): Promise<boolean> => {
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
      return response.status === status;
    } catch {
      return false; // not listening yet
    }
  };
  await waitUntil(process, `${url} answered ${status}`, answers, timeoutMs, 250);
}

/** The flags the tests serve with: `port`, one llama.cpp thread (a busy 2-core machine), `parallel` slots. */
export function serveFlags(port: number, parallel = 1): string[] {
  return ["--port", String(port), "--threads", "1", "--parallel", String(parallel)];
}

/** Waits for a serve-llm's /health on `port`, then asks it for two tokens (POST /generate); gives the answer. */
export async function generateWhenHealthy(process: CliProcess, port: number, timeoutMs: number): Promise<Response> {
  await waitForStatus(`http://127.0.0.1:${port}/health`, 200, process, timeoutMs);
  return fetch(`http://127.0.0.1:${port}/generate`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ inputs: "Hello", parameters: { max_new_tokens: 2 } }),
  });
}

export type ServeLlmProcessOptions = {
  model: string;
  /** 0 (the default): a free port, which the start-up log gives (`loggedUrl`). */
  port?: number;
  parallel?: number;
  /** More flags, after the common ones. */
  args?: readonly string[];
  /** Added to the environment, after LLM_TWIN_LOG_LEVEL=info (see spawnCli). */
  env?: Record<string, string | undefined>;
};

/**
 * `llm-twin serve-llm` as the process tests start it: on loopback, one llama.cpp thread (a busy
 * 2-core machine), `--parallel` 2 unless told, info logs (the lines loggedUrl and
 * waitForModelReady read).
 */
export function spawnServeLlm(options: ServeLlmProcessOptions): CliProcess {
  const { model, port = 0, parallel = 2, args = [], env = {} } = options;
  const common = ["--host", "127.0.0.1", ...serveFlags(port, parallel)];
  return spawnCli(["serve-llm", "--model", model, ...common, ...args], { LLM_TWIN_LOG_LEVEL: "info", ...env });
}

/** The base URL a serve-llm process logged when it started listening (info logs); undefined before. */
export function loggedUrl(process: CliProcess): string | undefined {
  return /"url":"(http:\/\/127\.0\.0\.1:\d+)"/.exec(process.output())?.[1];
}

/** Waits for serve-llm's "model ready" log line; gives its base URL. */
export async function waitForModelReady(process: CliProcess, timeoutMs = 120_000): Promise<string> {
  const ready = async (): Promise<boolean> => /"msg":"model ready"/.test(process.output());
  await waitUntil(process, "the model was ready", ready, timeoutMs, 25);
  const url = loggedUrl(process);
  if (url === undefined) throw new Error(`serve-llm logged no listening URL:\n${process.output()}`);
  return url;
}

/** Waits for the listening URL in serve-llm's log (the model may still be loading). */
export async function waitForLoggedUrl(process: CliProcess, timeoutMs = 180_000): Promise<string> {
  await waitUntil(process, "serve-llm listened", async () => loggedUrl(process) !== undefined, timeoutMs, 25);
  return loggedUrl(process) as string;
}

export async function stop(process: CliProcess | undefined, signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
  if (process === undefined || process.child.exitCode !== null) return;
  process.child.kill(signal);
  const timer = setTimeout(() => process.child.kill("SIGKILL"), 10_000);
  await process.exited;
  clearTimeout(timer);
}

/** SIGKILL those still running: an afterAll's clean-up, so a failed test leaves no server behind. */
export function killLeftOver(processes: Iterable<CliProcess | undefined>): void {
  for (const process of processes) {
    if (process !== undefined && process.child.exitCode === null) process.child.kill("SIGKILL");
  }
}
