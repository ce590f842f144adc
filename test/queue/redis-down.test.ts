/**
 * The queue commands when Redis is not there, run as a user runs them (real processes, real
 * sockets): `ingest --queue`, `worker`, `worker --status` and `worker --dead-letters` fail with one
 * `dependency_unavailable` line and no stack trace when nothing listens, give up after
 * --queue-connect-timeout-ms when something accepts the connection but never answers, and stop
 * at once on SIGINT/SIGTERM while they wait. A real redis-server killed under a running worker
 * shows the same: `worker --status` fails fast, the worker stops on SIGTERM. With Redis up, an input
 * without one readable record enqueues nothing.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../src/testing/free-port.js";
import { REDIS_MISSING, redisServerAvailable, startRedis } from "./redis-server.js";

const root = resolve(import.meta.dirname, "../..");
const sampleData = join(root, "sample-data");
const hasRedis = redisServerAvailable();
if (!hasRedis) console.warn(REDIS_MISSING);
const TEST_TIMEOUT_MS = 120_000;

type Run = { child: ChildProcess; done: Promise<{ code: number | null; stdout: string; stderr: string }> };

function startCli(args: string[]): Run {
  const child = spawn(process.execPath, [join(root, "bin/llm-twin.js"), ...args], {
    cwd: root,
    env: { ...process.env, LLM_TWIN_FROM_SOURCE: "1", LANCEDB_LOG: "error" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (data: Buffer) => (stdout += data.toString()));
  child.stderr?.on("data", (data: Buffer) => (stderr += data.toString()));
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolveRun) =>
    child.once("exit", (code) => resolveRun({ code, stdout, stderr })),
  );
  return { child, done };
}

/** One line, the error code, and nothing that looks like a stack trace or an ioredis dump. */
function expectOneErrorLine(stderr: string, code: string): string {
  const lines = stderr.trim().split("\n");
  expect(lines, stderr).toHaveLength(1);
  expect(lines[0]).toMatch(new RegExp(`^llm-twin: .*\\[${code}\\]$`));
  expect(stderr).not.toMatch(/^\s+at /m);
  expect(stderr).not.toContain("errno");
  return lines[0] as string;
}

/** A TCP server that accepts connections and never answers (a hung Redis, a firewall that holds). */
async function startSilentServer(): Promise<{ url: string; connected: Promise<void>; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  let onConnection: () => void = () => undefined;
  const connected = new Promise<void>((resolveConnected) => (onConnection = resolveConnected));
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on("error", () => undefined);
    onConnection();
  });
  const port = await freePort();
  await new Promise<void>((resolveListen) => server.listen(port, "127.0.0.1", resolveListen));
  return {
    url: `redis://127.0.0.1:${port}`,
    connected,
    close: () =>
      new Promise<void>((resolveClose) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolveClose());
      }),
  };
}

describe("queue commands with Redis down", () => {
  const work = mkdtempSync(join(tmpdir(), "llm-twin-redis-down-"));
  let downUrl: string;

  beforeAll(async () => {
    downUrl = `redis://127.0.0.1:${await freePort()}`; // nothing listens there
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it(
    "ingest --queue fails with one dependency_unavailable line and touches no store",
    async () => {
      const store = join(work, "store");
      const { code, stderr } = await startCli(["ingest", sampleData, "--queue", downUrl, "--store", `lancedb:${store}`])
        .done;
      expect(code).toBe(1);
      const line = expectOneErrorLine(stderr, "dependency_unavailable");
      expect(line).toContain(`cannot reach the queue's Redis at ${downUrl}`);
      expect(line).toContain("ECONNREFUSED");
      expect(line).toContain("--queue-connect-timeout-ms");
      expect(existsSync(store)).toBe(false);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    "worker, worker --status and worker --dead-letters fail the same way",
    async () => {
      const runs = await Promise.all([
        startCli(["worker", "--queue", downUrl]).done,
        startCli(["worker", "--status", "--queue", downUrl]).done,
        startCli(["worker", "--dead-letters", "--queue", downUrl]).done,
      ]);
      for (const { code, stderr } of runs) {
        expect(code).toBe(1);
        expect(expectOneErrorLine(stderr, "dependency_unavailable")).toContain("ECONNREFUSED");
      }
    },
    TEST_TIMEOUT_MS,
  );

  it(
    "gives up after --queue-connect-timeout-ms (or LLM_TWIN_QUEUE_CONNECT_TIMEOUT_MS) when the server never answers",
    async () => {
      const silent = await startSilentServer();
      try {
        const { code, stderr } = await startCli([
          "worker",
          "--status",
          "--queue",
          silent.url,
          "--queue-connect-timeout-ms",
          "300",
        ]).done;
        expect(code).toBe(1);
        expect(expectOneErrorLine(stderr, "dependency_unavailable")).toContain("no answer within 300 ms");
        const invalid = await startCli(["worker", "--status", "--queue", silent.url, "--queue-connect-timeout-ms", "0"])
          .done;
        expect(invalid.code).toBe(1);
        expect(expectOneErrorLine(invalid.stderr, "configuration_error")).toContain("--queue-connect-timeout-ms");
      } finally {
        await silent.close();
      }
    },
    TEST_TIMEOUT_MS,
  );

  for (const [signal, args] of [
    ["SIGINT", ["ingest", sampleData, "--queue"]],
    ["SIGTERM", ["ingest", sampleData, "--queue"]],
    ["SIGINT", ["worker", "--queue"]],
    ["SIGTERM", ["worker", "--status", "--queue"]],
  ] as const) {
    it(
      `${args.slice(0, 2).join(" ")} stops on ${signal} while waiting for Redis`,
      async () => {
        const silent = await startSilentServer();
        try {
          const store = join(work, `store-${signal}-${args[0]}`);
          // A wait far longer than the test: only the signal can end it.
          const run = startCli([
            ...args,
            silent.url,
            "--queue-connect-timeout-ms",
            "600000",
            ...(args[0] === "ingest" ? ["--store", `lancedb:${store}`] : []),
          ]);
          await silent.connected;
          run.child.kill(signal);
          const { code, stderr } = await run.done;
          expect(code).not.toBe(0);
          // The one signal path acknowledges the signal first (src/runtime), then the one error line.
          const notice = new RegExp(`^(llm-twin ingest|worker): received ${signal}, shutting down.*\n`);
          expect(expectOneErrorLine(stderr.replace(notice, ""), "aborted")).toContain("interrupted");
          expect(existsSync(store)).toBe(false);
        } finally {
          await silent.close();
        }
      },
      TEST_TIMEOUT_MS,
    );
  }
});

describe.skipIf(!hasRedis)("queue commands when a real Redis goes away", () => {
  it(
    "ingest --queue of an input without one readable record enqueues nothing and touches no store",
    async () => {
      const redis = await startRedis();
      const work = mkdtempSync(join(tmpdir(), "llm-twin-queue-bad-input-"));
      try {
        const input = join(work, "not-json.json");
        writeFileSync(input, "this is not JSON\n");
        const store = join(work, "store");
        const run = await startCli(["ingest", input, "--queue", redis.url, "--store", `lancedb:${store}`]).done;
        expect(run.code).toBe(1);
        expect(expectOneErrorLine(run.stderr, "invalid_document")).toContain("no document could be read");
        expect(existsSync(store)).toBe(false);
        const status = await startCli(["worker", "--status", "--queue", redis.url, "--json"]).done;
        expect(JSON.parse(status.stdout)).toMatchObject({ waiting: 0, completed: 0, failed: 0 });
      } finally {
        await redis.stop();
        rmSync(work, { recursive: true, force: true });
      }
    },
    TEST_TIMEOUT_MS,
  );

  it(
    "a running worker stops on SIGTERM after its Redis died, and --status then fails fast",
    async () => {
      const redis = await startRedis();
      const worker = startCli([
        "worker",
        "--queue",
        redis.url,
        "--queue-name",
        "redis-down",
        "--shutdown-timeout-ms",
        "1000",
      ]);
      try {
        let output = "";
        worker.child.stderr?.on("data", (data: Buffer) => (output += data.toString()));
        while (!output.includes("worker: listening on queue")) await new Promise((wait) => setTimeout(wait, 50));
        await redis.stop();
        const status = await startCli(["worker", "--status", "--queue", redis.url]).done;
        expect(status.code).toBe(1);
        expectOneErrorLine(status.stderr, "dependency_unavailable");
        // The worker reports the lost connection once, not once per reconnect attempt.
        while (!output.includes("ECONNREFUSED")) await new Promise((wait) => setTimeout(wait, 50));
        worker.child.kill("SIGTERM");
        const { code, stderr } = await worker.done;
        expect(code).toBe(0);
        expect(stderr).toContain("worker: stopped");
        expect(stderr).not.toMatch(/^\s+at /m);
        expect(stderr.match(/ECONNREFUSED/g)?.length).toBe(1);
      } finally {
        worker.child.kill("SIGKILL");
        await redis.stop();
      }
    },
    TEST_TIMEOUT_MS,
  );
});
