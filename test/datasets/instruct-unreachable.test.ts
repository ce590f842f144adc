/**
 * `llm-twin dataset instruct` whose writer LLM cannot be used at all (closed port, unknown host,
 * key refused): one line with the code, the URL and the flag + variable to fix, after the first
 * calls, not one failure per chunk. A server that answers but fails some chunks is still tolerated
 * per chunk (test/datasets/instruct.test.ts).
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../src/testing/free-port.js";
import { startScriptedJudge } from "../../src/testing/scripted-judge.js";
import { makeDocumentArtifact } from "./document-artifact.js";
import { runCli } from "./run-cli.js";

let artifacts: string;
beforeAll(async () => {
  artifacts = await mkdtemp(join(tmpdir(), "llm-twin-instruct-unreachable-"));
  await makeDocumentArtifact(artifacts);
});
afterAll(async () => {
  await rm(artifacts, { recursive: true, force: true });
});

describe("llm-twin dataset instruct with an unusable writer LLM", () => {
  it("stops at the first calls when the port is closed, with one line naming the URL, flag and variable", async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    const result = await runCli("dataset", "instruct", "--artifacts", artifacts, "--llm-url", url, "--no-progress");
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toBe("");
    expect(result.stderr.trim().split("\n")).toEqual([
      `llm-twin: cannot reach the writer LLM at ${url}/v1/chat/completions (connection refused): start it or point --llm-url (LLM_TWIN_LLM_URL) at it [upstream_unavailable]`,
    ]);
  });

  it("stops when the writer refuses the key (401), after no more calls than run at once", async () => {
    const server = await startScriptedJudge(() => ({ kind: "http", status: 401, body: '{"error":"bad key"}' }));
    try {
      const result = await runCli(
        "dataset",
        "instruct",
        "--artifacts",
        artifacts,
        "--llm-url",
        server.url,
        "--api-key",
        "wrong",
        "--concurrency",
        "2",
        "--no-progress",
      );
      expect(result.exitCode).toBe(1);
      expect(result.stderr.trim().split("\n")).toEqual([
        expect.stringMatching(
          /^llm-twin: the writer LLM at http:\/\/127\.0\.0\.1:\d+\/v1\/chat\/completions refused the credentials \(HTTP 401\): give the right key with --api-key \(LLM_TWIN_LLM_API_KEY\), or check --llm-url \(LLM_TWIN_LLM_URL\) \[unauthorized\]$/,
        ),
      ]);
      expect(server.requests.length).toBeLessThanOrEqual(2);
    } finally {
      await server.close();
    }
  });
});
