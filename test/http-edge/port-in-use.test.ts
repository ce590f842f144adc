/**
 * A port already in use, on all three serve commands through the real CLI: one line naming the
 * port and how to change it, exit code 1, no stack trace, and nothing loaded first (a model path
 * that does not exist would fail later, so its error never shows).
 */
import { createServer, type Server } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawnCli } from "../../src/testing/cli-process.js";

let blocker: Server;
let port: number;

beforeAll(async () => {
  blocker = createServer();
  await new Promise<void>((resolve) => blocker.listen({ host: "127.0.0.1", port: 0 }, resolve));
  port = (blocker.address() as { port: number }).port;
});
afterAll(async () => {
  await new Promise((resolve) => blocker.close(resolve));
});

describe("a port already in use", () => {
  it.each([
    ["serve", ["--model", "/nonexistent/model.gguf"]],
    ["serve-rag", ["--store", "lancedb:/nonexistent/store"]],
    ["serve-llm", ["--model", "/nonexistent/model.gguf"]],
  ])("llm-twin %s says which port and how to change it", async (command, extra) => {
    const cli = spawnCli([command, "--host", "127.0.0.1", "--port", String(port), ...extra], {
      LLM_TWIN_PORT: undefined,
    });
    const code = await cli.exited;
    const output = cli.output();
    expect(code, output).toBe(1);
    const errorLines = output.split("\n").filter((line) => line.startsWith("llm-twin:"));
    expect(errorLines, output).toEqual([
      `llm-twin: port ${port} on 127.0.0.1 is already in use: choose another with --port (or LLM_TWIN_PORT) [port_in_use]`,
    ]);
    expect(output).not.toMatch(/\n\s+at /);
    expect(output).not.toMatch(/nonexistent/);
  });
});

describe("a --host that is no address of this machine", () => {
  it.each([
    ["serve-llm", ["--model", "/nonexistent/model.gguf"]],
    ["serve-rag", ["--store", "lancedb:/nonexistent/store"]],
  ])("llm-twin %s says which host and how to change it", async (command, extra) => {
    const cli = spawnCli([command, "--host", "999.1.1.1", "--port", String(port), ...extra], {
      LLM_TWIN_HOST: undefined,
    });
    const code = await cli.exited;
    const output = cli.output();
    expect(code, output).toBe(1);
    const errorLines = output.split("\n").filter((line) => line.startsWith("llm-twin:"));
    expect(errorLines, output).toEqual([
      "llm-twin: cannot listen on 999.1.1.1: the name does not resolve to an address; choose another with --host (or LLM_TWIN_HOST) [configuration_error]",
    ]);
    expect(output).not.toMatch(/\n\s+at /);
  });
});
