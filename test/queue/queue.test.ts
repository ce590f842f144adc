/**
 * Queue-based ingestion against a real Redis (started here) and real worker processes
 * (`llm-twin worker`): the store several workers build equals a single-process `ingest` of the
 * same input; re-enqueueing adds nothing; a worker SIGKILLed mid-run leaves its job to another
 * worker and the store still ends identical; poison jobs end in the dead-letter list.
 * Input: the first articles of the real LLM Twin corpus plus one malformed record.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { Queue } from "bullmq";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createEmbedder } from "../../src/embedding/index.js";
import { ingest } from "../../src/ingestion/index.js";
import { enqueueIngestion, type IngestionJobData, queueStatus } from "../../src/queue/index.js";
import { requireSharedDataset } from "../../src/testing/shared-datasets.js";
import { openVectorStore } from "../../src/vector-store/index.js";
import { REDIS_MISSING, type RunningRedis, redisServerAvailable, startRedis } from "./redis-server.js";

const root = resolve(import.meta.dirname, "../..");
const articles = requireSharedDataset("llm-twin", "articles.json");
const hasRedis = redisServerAvailable();
if (!hasRedis) console.warn(REDIS_MISSING);
const ARTICLES = 16;
const CATEGORIES = ["articles", "posts", "repositories"] as const;
/** Worker processes start through tsx and share two cores with the rest of the suite: be patient. */
const TEST_TIMEOUT_MS = 300_000;

type Worker = { child: ChildProcess; output: () => string; exited: Promise<number | null> };

function startWorker(redisUrl: string, queueName: string, extra: string[]): Promise<Worker> {
  const child = spawn(
    process.execPath,
    [join(root, "bin/llm-twin.js"), "worker", "--queue", redisUrl, "--queue-name", queueName, ...extra],
    {
      cwd: root,
      env: { ...process.env, LLM_TWIN_FROM_SOURCE: "1", LANCEDB_LOG: "error" },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let output = "";
  child.stdout?.on("data", (data: Buffer) => (output += data.toString()));
  child.stderr?.on("data", (data: Buffer) => (output += data.toString()));
  const exited = new Promise<number | null>((resolveExit) => child.once("exit", (code) => resolveExit(code)));
  return new Promise((resolveStart, reject) => {
    const timer = setInterval(() => {
      if (output.includes("worker: listening on queue")) {
        clearInterval(timer);
        resolveStart({ child, output: () => output, exited });
      }
    }, 50);
    exited.then((code) => {
      clearInterval(timer);
      reject(new Error(`worker exited with ${code} before listening:\n${output}`));
    });
  });
}

/** Runs the llm-twin CLI to completion; resolves with its stdout, rejects on a non-zero exit. */
function runCli(args: string[], env: Record<string, string> = {}): Promise<string> {
  const child = spawn(process.execPath, [join(root, "bin/llm-twin.js"), ...args], {
    cwd: root,
    env: { ...process.env, LLM_TWIN_FROM_SOURCE: "1", LANCEDB_LOG: "error", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (data: Buffer) => (stdout += data.toString()));
  child.stderr?.on("data", (data: Buffer) => (stderr += data.toString()));
  return new Promise((resolveRun, reject) =>
    child.once("exit", (code) =>
      code === 0 ? resolveRun(stdout) : reject(new Error(`llm-twin ${args[0]} exited with ${code}:\n${stderr}`)),
    ),
  );
}

async function waitFor(what: string, condition: () => Promise<boolean>, timeoutMs = 240_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolveDelay) => setTimeout(resolveDelay, 200));
  }
}

/** chunk ids per document in every category, and the total count: what "identical" means here. */
async function storeContents(uri: string, documentIds: string[]): Promise<{ count: number; chunks: string[] }> {
  const store = await openVectorStore(uri);
  try {
    const chunks: string[] = [];
    for (const category of CATEGORIES) {
      for (const [documentId, ids] of await store.chunkIdsByDocument(category, documentIds)) {
        chunks.push(`${category}/${documentId}: ${[...ids].sort().join(" ")}`);
      }
    }
    return { count: await store.count(), chunks: chunks.sort() };
  } finally {
    await store[Symbol.asyncDispose]();
  }
}

describe.skipIf(!hasRedis || articles === undefined)("queue-based ingestion with BullMQ workers", () => {
  const work = mkdtempSync(join(tmpdir(), "llm-twin-queue-"));
  const input = join(work, "input.json");
  let redis: RunningRedis;
  let documentIds: string[] = [];
  let reference: { count: number; chunks: string[] };
  const running: Worker[] = [];

  beforeAll(async () => {
    const records = (JSON.parse(readFileSync(articles as string, "utf8")) as { _id: string }[]).slice(0, ARTICLES);
    documentIds = records.map((record) => record._id);
    writeFileSync(input, JSON.stringify([...records, { _id: "broken", platform: "medium" }]));
    redis = await startRedis();
    const embedder = await createEmbedder("static");
    const store = await openVectorStore(`lancedb:${join(work, "reference")}`);
    try {
      const summary = await ingest({ source: input, store, embedder });
      expect(summary.documentsRead).toBe(ARTICLES);
      expect(summary.documentsSkipped).toHaveLength(1);
    } finally {
      await store[Symbol.asyncDispose]();
      await embedder[Symbol.asyncDispose]();
    }
    reference = await storeContents(`lancedb:${join(work, "reference")}`, documentIds);
    expect(reference.count).toBeGreaterThan(ARTICLES);
  }, TEST_TIMEOUT_MS);

  afterAll(async () => {
    for (const worker of running) if (worker.child.exitCode === null) worker.child.kill("SIGKILL");
    await redis?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it(
    "two worker processes build the same store as a single-process ingest; re-enqueueing adds nothing",
    async () => {
      const storeUri = `lancedb:${join(work, "two-workers")}`;
      // Both listening before the jobs arrive: a worker that started first could otherwise drain the
      // queue before the other one is up.
      const workers = await Promise.all(
        [1, 2].map(() => startWorker(redis.url, "two-workers", ["--concurrency", "2", "--store", storeUri])),
      );
      running.push(...workers);
      const summary = await enqueueIngestion({
        queueUrl: redis.url,
        queueName: "two-workers",
        source: input,
        storeUri,
      });
      expect(summary).toMatchObject({ documentsRead: ARTICLES, jobsEnqueued: ARTICLES, jobsAlreadyQueued: 0 });
      expect(summary.documentsSkipped).toEqual([expect.objectContaining({ file: input, index: ARTICLES })]);

      await waitFor(
        "all jobs completed",
        async () => (await queueStatus({ queueUrl: redis.url, queueName: "two-workers" })).completed === ARTICLES,
      );
      for (const worker of workers) worker.child.kill("SIGTERM");
      expect(await Promise.all(workers.map((worker) => worker.exited))).toEqual([0, 0]);
      for (const worker of workers) expect(worker.output()).toContain("worker: stopped");
      // both processes did work
      for (const worker of workers) expect(worker.output()).toMatch(/worker: ingested /);
      expect(await storeContents(storeUri, documentIds)).toEqual(reference);

      // Re-enqueue through the CLI (`llm-twin ingest --queue`, which calls enqueueIngestion).
      const again = JSON.parse(
        await runCli(["ingest", input, "--store", storeUri, "--queue", redis.url, "--json", "--progress", "none"], {
          LLM_TWIN_QUEUE_NAME: "two-workers",
        }),
      );
      expect(again).toMatchObject({
        documentsRead: ARTICLES,
        jobsEnqueued: 0,
        jobsAlreadyQueued: ARTICLES,
        jobsRequeued: 0,
      });
      expect(await queueStatus({ queueUrl: redis.url, queueName: "two-workers" })).toMatchObject({
        waiting: 0,
        active: 0,
        completed: ARTICLES,
      });
    },
    TEST_TIMEOUT_MS,
  );

  it(
    "a worker SIGKILLed mid-run: its job goes to another worker and the store ends identical",
    async () => {
      const storeUri = `lancedb:${join(work, "killed")}`;
      const location = { queueUrl: redis.url, queueName: "killed" };
      await enqueueIngestion({ ...location, source: input, storeUri });
      const fastStalls = ["--store", storeUri, "--lock-duration-ms", "1500", "--stalled-interval-ms", "500"];
      const victim = await startWorker(redis.url, "killed", fastStalls);
      running.push(victim);
      await waitFor("the victim to be mid-run", async () => {
        const status = await queueStatus(location);
        return status.completed >= 2 && status.active >= 1;
      });
      victim.child.kill("SIGKILL");
      await victim.exited;
      const completedAtKill = (await queueStatus(location)).completed;
      expect(completedAtKill).toBeLessThan(ARTICLES);

      const survivor = await startWorker(redis.url, "killed", fastStalls);
      running.push(survivor);
      await waitFor("all jobs completed", async () => (await queueStatus(location)).completed === ARTICLES);
      survivor.child.kill("SIGTERM");
      expect(await survivor.exited).toBe(0);
      expect(await queueStatus(location)).toMatchObject({ completed: ARTICLES, failed: 0, deadLetters: 0 });
      expect(await storeContents(storeUri, documentIds)).toEqual(reference);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    "poison jobs land in the dead-letter list: after all retries, or at once when they cannot succeed",
    async () => {
      const location = { queueUrl: redis.url, queueName: "poison" };
      const good = await enqueueIngestion({ ...location, source: input, storeUri: `lancedb:${join(work, "poison")}` });
      const queue = new Queue<IngestionJobData | { version: 1 }>("poison", { connection: { url: redis.url } });
      try {
        // Remove the good jobs: this queue only holds the two poison ones.
        await queue.drain();
        const document = JSON.parse(readFileSync(input, "utf8"))[0];
        const unreachable: IngestionJobData = {
          version: 1,
          document: { ...document, id: document._id, category: "articles" },
          source: { file: input, index: 0 },
          sourceHash: "poison",
          storeUri: "qdrant:http://127.0.0.1:9",
          embedderSpec: "static",
          fingerprint: good.fingerprint,
        };
        await queue.add("ingest-document", unreachable, {
          jobId: "unreachable",
          attempts: 3,
          backoff: { type: "fixed", delay: 100 },
        });
        await queue.add(
          "ingest-document",
          { version: 1 },
          { jobId: "malformed", attempts: 3, backoff: { type: "fixed", delay: 100 } },
        );
      } finally {
        await queue.close();
      }
      const worker = await startWorker(redis.url, "poison", ["--json"]);
      running.push(worker);
      await waitFor("two dead letters", async () => (await queueStatus(location)).deadLetters === 2);
      worker.child.kill("SIGTERM");
      expect(await worker.exited).toBe(0);

      const stdout = await runCli([
        "worker",
        "--queue",
        redis.url,
        "--queue-name",
        "poison",
        "--dead-letters",
        "--json",
      ]);
      const letters = JSON.parse(stdout) as {
        jobId: string;
        reason: string;
        attemptsMade: number;
        documentId: string | null;
      }[];
      const byId = Object.fromEntries(letters.map((letter) => [letter.jobId, letter]));
      expect(Object.keys(byId).sort()).toEqual(["malformed", "unreachable"]);
      expect(byId.unreachable?.attemptsMade).toBe(3);
      expect(byId.unreachable?.documentId).toBe(documentIds[0]);
      expect(byId.unreachable?.reason.length).toBeGreaterThan(0);
      expect(byId.malformed?.attemptsMade).toBe(1);
      expect(byId.malformed?.reason).toMatch(/malformed job data/);
      // the retries were reported as they happened
      expect(worker.output().match(/"type":"retrying"/g)).toHaveLength(2);
    },
    TEST_TIMEOUT_MS,
  );
});
