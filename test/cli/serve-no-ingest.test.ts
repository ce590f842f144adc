/**
 * `llm-twin serve --no-ingest` on an empty store: one line saying what to do, before the model is
 * loaded (no "loading …" / "model ready" line), exit code 1.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawnCli } from "../../src/testing/cli-process.js";

let directory: string;
beforeAll(async () => {
  directory = await mkdtemp(path.join(tmpdir(), "llm-twin-serve-no-ingest-"));
});
afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

describe("llm-twin serve --no-ingest on an empty store", () => {
  it("says to ingest or drop --no-ingest before the model loads", async () => {
    const store = `lancedb:${path.join(directory, "store")}`;
    const cli = spawnCli(["serve", "--model", "demo", "--embedder", "static", "--store", store, "--no-ingest"], {
      LLM_TWIN_PORT: "0",
      LLM_TWIN_HOST: "127.0.0.1",
    });
    expect(await cli.exited).toBe(1);
    const output = cli.output();
    expect(output).not.toMatch(/loading .*\(parallel|model ready/);
    expect(
      output.split("\n").filter((line) => line.startsWith("llm-twin:")),
      output,
    ).toEqual([
      `llm-twin: the store at ${store} is empty and --no-ingest (LLM_TWIN_NO_INGEST) is set: run 'llm-twin ingest <documents> --store ${store}' first, or drop --no-ingest to ingest --sample-data on start [configuration_error]`,
    ]);
  });
});
