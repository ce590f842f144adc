/** `llm-twin serve-llm` as a child process for the serving benchmarks, on a free loopback port. */
import { fileURLToPath } from "node:url";
import { freePort } from "../../src/testing/free-port.js";
import { type ManagedServer, startServerProcess } from "./llama-server.js";

const BIN = fileURLToPath(new URL("../../bin/llm-twin.js", import.meta.url));

export type ServeLlmOptions = {
  modelPath: string;
  parallel: number;
  threads: number;
  /** Per-sequence context, also the max total tokens. */
  contextSize: number;
  /** More serve-llm flags, after the ones above. */
  extraArgs?: readonly string[];
  /** Node flags before the entry point, e.g. --cpu-prof. */
  nodeArgs?: readonly string[];
  timeoutMs?: number;
};

export async function startServeLlm(options: ServeLlmOptions): Promise<ManagedServer> {
  const port = await freePort();
  return startServerProcess({
    command: process.execPath,
    args: [
      ...(options.nodeArgs ?? []),
      BIN,
      "serve-llm",
      "--model",
      options.modelPath,
      "--host",
      "127.0.0.1",
      "--port",
      String(port),
      "--parallel",
      String(options.parallel),
      "--threads",
      String(options.threads),
      "--context-size",
      String(options.contextSize),
      "--max-total-tokens",
      String(options.contextSize),
      ...(options.extraArgs ?? []),
    ],
    url: `http://127.0.0.1:${port}`,
    env: { ...process.env, LLM_TWIN_FROM_SOURCE: "1", LLM_TWIN_LOG_LEVEL: process.env.LLM_TWIN_LOG_LEVEL ?? "warn" },
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
  });
}
