/**
 * `ingest --embedder openai:<url>` honours --embedder-request-timeout-ms and --embedder-retries
 * (and their variables): against a loopback server that accepts the connection and never answers,
 * the run ends with one `timeout` line naming the flag, after exactly 1 + retries attempts, and
 * leaves no store behind; the same with --queue (the store is prepared before jobs are enqueued).
 * A bad value is refused before anything is contacted.
 */
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawnCli } from "../../src/testing/cli-process.js";
import { projectRoot } from "../../src/testing/shared-datasets.js";
import { REDIS_MISSING, redisServerAvailable, startRedis } from "../queue/redis-server.js";

const input = join(projectRoot, "sample-data", "articles.json");
let directory: string;
let baseUrl: string;
let attempts = 0;
const stalled: ServerResponse[] = [];
const server = createServer((_request, response) => {
  attempts += 1;
  stalled.push(response); // never answered
});

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), "llm-twin-embedder-http-"));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
});
afterAll(async () => {
  for (const response of stalled) response.destroy();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  if (directory !== undefined) await rm(directory, { recursive: true, force: true });
});

async function ingest(name: string, flags: string[], env: Record<string, string | undefined> = {}) {
  const store = join(directory, name);
  const cli = spawnCli(
    ["ingest", input, "--store", `lancedb:${store}`, "--embedder", `openai:${baseUrl}`, "--no-artifacts", ...flags],
    { LLM_TWIN_EMBEDDER_REQUEST_TIMEOUT_MS: undefined, LLM_TWIN_EMBEDDER_RETRIES: undefined, ...env },
  );
  const code = await cli.exited;
  return { code, output: cli.output(), store };
}

describe("ingest with an HTTP embedder that never answers", () => {
  it("--embedder-request-timeout-ms and --embedder-retries 0: one attempt, then one timeout line", async () => {
    attempts = 0;
    const run = await ingest("flags", ["--embedder-request-timeout-ms", "300", "--embedder-retries", "0"]);
    expect(run.code).toBe(1);
    expect(attempts).toBe(1);
    expect(run.output.trim()).toBe(
      `llm-twin: the embedder at ${baseUrl}/models did not answer within 300 ms (--embedder-request-timeout-ms, LLM_TWIN_EMBEDDER_REQUEST_TIMEOUT_MS) [timeout]`,
    );
    expect(existsSync(run.store)).toBe(false);
  }, 60_000);

  it("the variables work the same: LLM_TWIN_EMBEDDER_RETRIES=1 makes two attempts", async () => {
    attempts = 0;
    const run = await ingest("variables", [], {
      LLM_TWIN_EMBEDDER_REQUEST_TIMEOUT_MS: "200",
      LLM_TWIN_EMBEDDER_RETRIES: "1",
    });
    expect(run.code).toBe(1);
    expect(attempts).toBe(2);
    expect(run.output).toMatch(/did not answer within 200 ms .*\[timeout\]/);
    expect(run.output).not.toMatch(/\n\s+at /);
  }, 60_000);

  it("refuses a negative retry count before contacting the embedder, naming the flag and the variable", async () => {
    attempts = 0;
    const run = await ingest("refused", ["--embedder-retries", "-1"]);
    expect(run.code).toBe(1);
    expect(attempts).toBe(0);
    expect(run.output).toMatch(/--embedder-retries \(LLM_TWIN_EMBEDDER_RETRIES\).*>= 0.*\[configuration_error\]/);
  }, 60_000);

  it.skipIf(!redisServerAvailable())(
    "with --queue too (the embedder prepares the store first)",
    async () => {
      const redis = await startRedis();
      try {
        attempts = 0;
        const run = await ingest("queue", [
          "--queue",
          redis.url,
          "--embedder-request-timeout-ms",
          "300",
          "--embedder-retries",
          "0",
        ]);
        expect(run.code).toBe(1);
        expect(attempts).toBe(1);
        expect(run.output).toMatch(/did not answer within 300 ms .*\[timeout\]/);
      } finally {
        await redis.stop();
      }
    },
    60_000,
  );
});

if (!redisServerAvailable()) console.warn(REDIS_MISSING);
