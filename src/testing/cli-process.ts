/** The real `llm-twin` CLI as a child process in end-to-end tests: spawn it, wait for an HTTP status, stop it. */
import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const BIN = fileURLToPath(new URL("../../bin/llm-twin.js", import.meta.url));

export type CliProcess = { child: ChildProcess; output: () => string; exited: Promise<number | null> };

/** `env` is added to this process's environment; a variable set to undefined is left out. */
export function spawnCli(args: readonly string[], env: Record<string, string | undefined> = {}): CliProcess {
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { ...process.env, LLM_TWIN_FROM_SOURCE: "1", LANCEDB_LOG: "error", ...env },
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

/** Polls `url` until it answers `status` (or the process dies, or the deadline passes). */
export async function waitForStatus(
  url: string,
  status: number,
  process: CliProcess,
  timeoutMs = 90_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  void process.exited.then(() => {
    exited = true;
  });
  while (Date.now() < deadline) {
    if (exited) throw new Error(`the process exited before ${url} answered ${status}:\n${process.output()}`);
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
      if (response.status === status) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`${url} did not answer ${status} within ${timeoutMs} ms:\n${process.output()}`);
}

export async function stop(process: CliProcess | undefined, signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
  if (process === undefined || process.child.exitCode !== null) return;
  process.child.kill(signal);
  const timer = setTimeout(() => process.child.kill("SIGKILL"), 10_000);
  await process.exited;
  clearTimeout(timer);
}
