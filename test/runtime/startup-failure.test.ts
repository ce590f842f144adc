/**
 * Start-up failing half-way through the real CLI: `serve-rag` opens the store and the embedder,
 * builds the LLM client, then the reranker fails to load. The process must release what it built
 * and exit by itself with one line naming the problem (a resource left open would keep it alive
 * until the test times out).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { spawnCli } from "../../src/testing/cli-process.js";

const folder = mkdtempSync(join(tmpdir(), "llm-twin-startup-failure-"));

afterAll(() => rmSync(folder, { recursive: true, force: true }));

describe("a start-up that fails half-way", () => {
  it("releases the store, embedder and LLM client already built and exits 1 with one line", async () => {
    const cli = spawnCli([
      "serve-rag",
      "--store",
      `lancedb:${join(folder, "store")}`,
      "--llm-url",
      "http://127.0.0.1:9",
      "--reranker",
      join(folder, "missing-reranker.gguf"),
      "--port",
      "0",
    ]);
    expect(await cli.exited).toBe(1);
    const output = cli.output();
    expect(output).toMatch(/^llm-twin: .*missing-reranker\.gguf.* \[model_not_found\]$/m);
    expect(output).not.toMatch(/\n\s+at /);
  });
});
