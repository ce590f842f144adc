/**
 * `worker` owns its resources through one stack (src/runtime): a start-up failing at any step
 * (Redis unreachable, store built with another embedder) releases what was already opened — no
 * socket, store or embedder left behind — and the process answers SIGINT like every long-running
 * command (graceful exit 0; a second signal exits at once with 130).
 */
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { prepareStore } from "../../src/ingestion/fingerprint-guard.js";
import { createFingerprint } from "../../src/preprocessing/index.js";
import { startIngestionWorker } from "../../src/queue/index.js";
import { fakeEmbedder } from "../../src/rag/testing/fakes.js";
import { FORCED_EXIT_CODE } from "../../src/runtime/index.js";
import { type CliProcess, spawnCli } from "../../src/testing/cli-process.js";
import { freePort } from "../../src/testing/free-port.js";
import { openVectorStore } from "../../src/vector-store/index.js";
import { waitFor } from "../llm-server/helpers.js";
import { REDIS_MISSING, type RunningRedis, redisServerAvailable, startRedis } from "../queue/redis-server.js";

const hasRedis = redisServerAvailable();
if (!hasRedis) console.warn(REDIS_MISSING);

let redis: RunningRedis | undefined;
let folder = "";
const spawned: CliProcess[] = [];

beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), "llm-twin-worker-runtime-"));
  if (hasRedis) redis = await startRedis();
});

afterAll(async () => {
  for (const cli of spawned) if (cli.child.exitCode === null) cli.child.kill("SIGKILL");
  await redis?.stop();
  await rm(folder, { recursive: true, force: true });
});

/** Sockets and timers of this process: what a resource left open shows up as. */
const openHandles = (): number =>
  process.getActiveResourcesInfo().filter((name) => name === "TCPSocketWrap" || name === "Timeout").length;

/** Handles close on a later turn of the event loop: wait (bounded) for the count to settle. */
const handlesBackTo = (before: number): Promise<void> =>
  waitFor(async () => openHandles() <= before, `open handles back to ${before}`, 10_000);

describe.skipIf(!hasRedis)("worker start-up failing half-way", () => {
  it("Redis unreachable: fails with one error before opening anything", async () => {
    const before = openHandles();
    const port = await freePort();
    await expect(
      startIngestionWorker({
        queueUrl: `redis://127.0.0.1:${port}`,
        queueName: "unreachable",
        connectTimeoutMs: 2_000,
      }),
    ).rejects.toMatchObject({ code: "dependency_unavailable" });
    await handlesBackTo(before);
  });

  it("store built with another embedder: the store and embedder already opened are released", async () => {
    const storeUri = `lancedb:${join(folder, "other-embedder")}`;
    const store = await openVectorStore(storeUri);
    await prepareStore(store, createFingerprint(fakeEmbedder()), { recreate: false });
    await store[Symbol.asyncDispose]();
    const before = openHandles();
    await expect(
      startIngestionWorker({ queueUrl: redis?.url as string, queueName: "mismatch", storeUri }),
    ).rejects.toMatchObject({ code: "fingerprint_mismatch" });
    await handlesBackTo(before);
  });

  it("a worker that started releases the worker, dead-letter queue, store and embedder, newest first", async () => {
    const before = openHandles();
    const worker = await startIngestionWorker({
      queueUrl: redis?.url as string,
      queueName: "released",
      storeUri: `lancedb:${join(folder, "released")}`,
    });
    await worker.ready;
    expect(worker.held).toEqual([
      "stores and embedders",
      "final optimize",
      "dead-letter queue",
      "queue worker",
      "optimize timer",
    ]);
    await worker[Symbol.asyncDispose]();
    expect(worker.held).toEqual([]);
    await handlesBackTo(before);
  });

  it("abandon() drops the connections and releases everything too", async () => {
    const before = openHandles();
    const worker = await startIngestionWorker({ queueUrl: redis?.url as string, queueName: "abandoned" });
    await worker.ready;
    await worker.abandon();
    expect(worker.held).toEqual([]);
    await handlesBackTo(before);
  });
});

describe.skipIf(!hasRedis)("worker process and signals", () => {
  const startWorking = async (queueName: string): Promise<CliProcess> => {
    const cli = spawnCli(["worker", "--queue", redis?.url as string, "--queue-name", queueName]);
    spawned.push(cli);
    await waitFor(async () => /worker: listening on queue/.test(cli.output()), "the worker to listen", 60_000);
    return cli;
  };

  it("SIGINT stops it gracefully and it exits 0", async () => {
    const cli = await startWorking("sigint");
    cli.child.kill("SIGINT");
    expect(await cli.exited).toBe(0);
    expect(cli.output()).toMatch(/worker: received SIGINT, shutting down/);
    expect(cli.output()).toMatch(/worker: stopped/);
  });

  it("a second SIGINT while it shuts down exits at once with 130", async () => {
    // A Redis that stops answering keeps the graceful part waiting when the second signal comes.
    const cli = await startWorking("second-sigint");
    await pauseRedis((redis as RunningRedis).port);
    cli.child.kill("SIGINT");
    await waitFor(async () => /received SIGINT, shutting down/.test(cli.output()), "the first signal to be seen");
    cli.child.kill("SIGINT");
    expect(await cli.exited).toBe(FORCED_EXIT_CODE);
    expect(cli.output()).toMatch(/SIGINT again: exiting now/);
  });
});

/** `CLIENT PAUSE` makes Redis hold every client's commands for a while (here 5 s). */
function pauseRedis(port: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const child = spawn("redis-cli", ["-p", String(port), "CLIENT", "PAUSE", "5000", "ALL"], { stdio: "ignore" });
    child.once("error", reject);
    child.once("exit", () => resolve());
  });
}
