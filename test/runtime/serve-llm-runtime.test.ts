/**
 * `serve-llm` owns its resources through one stack (src/runtime): a start-up failing at any step
 * (port in use, model missing, model unreadable) releases what was already built — no listening
 * socket or model left behind — and the process answers SIGINT like every long-running command
 * (graceful exit 0; a second signal exits at once with 130).
 */
import { writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tinyModelPath } from "../../src/gguf/index.js";
import { parseLlmServerConfig } from "../../src/llm-server/config.js";
import { startLlmServer } from "../../src/llm-server/server.js";
import { FORCED_EXIT_CODE } from "../../src/runtime/index.js";
import {
  type CliProcess,
  killLeftOver,
  loggedUrl,
  spawnServeLlm,
  waitForModelReady,
} from "../../src/testing/cli-process.js";
import { waitFor } from "../llm-server/helpers.js";

let folder = "";
let model = "";
const spawned: CliProcess[] = [];

beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), "llm-twin-serve-llm-runtime-"));
  model = await tinyModelPath("chat");
});

afterAll(async () => {
  killLeftOver(spawned);
  await rm(folder, { recursive: true, force: true });
});

/** Listening sockets of this process (a server left open shows up here). */
const listeningSockets = (): number =>
  process.getActiveResourcesInfo().filter((name) => name === "TCPServerWrap").length;

/** A socket handle is closed on a later turn of the event loop: wait (bounded) for the count to settle. */
const noListeningSocketsBeyond = (before: number): Promise<void> =>
  waitFor(async () => listeningSockets() === before, `listening sockets back to ${before}`, 5_000);

const configFor = (overrides: Record<string, unknown>) =>
  parseLlmServerConfig({ host: "127.0.0.1", port: "0", threads: "1", logLevel: "silent", ...overrides });

describe("serve-llm start-up failing half-way", () => {
  it("port in use: the HTTP server already built is closed, nothing else was created", async () => {
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
    const address = blocker.address();
    const port = typeof address === "object" && address !== null ? address.port : 0;
    const before = listeningSockets();
    try {
      await expect(startLlmServer(configFor({ model, port: String(port) }))).rejects.toMatchObject({
        code: "port_in_use",
      });
      await noListeningSocketsBeyond(before);
    } finally {
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
    }
  });

  it("model missing: the load fails, shutdown releases the load and the HTTP server", async () => {
    const before = listeningSockets();
    const server = await startLlmServer(configFor({ model: join(folder, "missing.gguf") }));
    expect(server.resources.held).toEqual(["HTTP server", "model load"]);
    await expect(server.ready).rejects.toMatchObject({ code: "model_not_found" });
    await server.shutdown("model failed to load");
    expect(server.resources.disposed).toBe(true);
    expect(server.resources.held).toEqual([]);
    await noListeningSocketsBeyond(before);
  });

  it("model unreadable (not a GGUF file): same release, nothing left open", async () => {
    const broken = join(folder, "broken.gguf");
    writeFileSync(broken, "this is not a model");
    const before = listeningSockets();
    const server = await startLlmServer(configFor({ model: broken }));
    await expect(server.ready).rejects.toThrow();
    await server.shutdown("model failed to load");
    expect(server.resources.held).toEqual([]);
    await noListeningSocketsBeyond(before);
  });

  it("a model that loaded is released with the rest, newest first", async () => {
    const before = listeningSockets();
    const server = await startLlmServer(configFor({ model }));
    const engine = await server.ready;
    expect(server.resources.held).toEqual(["HTTP server", "model load", "model"]);
    await server.shutdown();
    expect(engine.disposed).toBe(true);
    expect(server.resources.held).toEqual([]);
    await noListeningSocketsBeyond(before);
  });
});

describe("serve-llm process and signals", () => {
  const startServing = async (): Promise<CliProcess> => {
    const cli = spawnServeLlm({ model, parallel: 1, args: ["--grace-period", "25"] });
    spawned.push(cli);
    await waitForModelReady(cli);
    return cli;
  };

  it("SIGINT shuts down gracefully and exits 0", async () => {
    const cli = await startServing();
    cli.child.kill("SIGINT");
    expect(await cli.exited).toBe(0);
    expect(cli.output()).toMatch(/received SIGINT, shutting down/);
    expect(cli.output()).toMatch(/"msg":"stopped"/);
  });

  it("a second SIGINT during the shutdown exits at once with 130", async () => {
    const cli = await startServing();
    // Streams in flight (one at a time, --parallel 1) keep the graceful part busy for seconds
    // when the second signal comes.
    const url = loggedUrl(cli);
    const streams = Array.from({ length: 4 }, () =>
      fetch(`${url}/generate_stream`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ inputs: "busy", parameters: { max_new_tokens: 2000, ignore_eos: true } }),
      }),
    );
    await streams[0];
    cli.child.kill("SIGINT");
    await waitFor(async () => /received SIGINT, shutting down/.test(cli.output()), "the first signal to be seen");
    cli.child.kill("SIGINT");
    expect(await cli.exited).toBe(FORCED_EXIT_CODE);
    await Promise.allSettled(streams);
    expect(cli.output()).toMatch(/SIGINT again: exiting now/);
  });
});
