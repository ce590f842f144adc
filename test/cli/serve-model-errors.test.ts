/**
 * `llm-twin serve --model <a file the user named>` that is not usable: one line with the file's own
 * problem and its code, without the "no internet" advice meant for downloads.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawnCli } from "../../src/testing/cli-process.js";

let directory: string;
beforeAll(async () => {
  directory = await mkdtemp(path.join(tmpdir(), "llm-twin-serve-model-"));
});
afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

describe("llm-twin serve --model with a file that is not a model", () => {
  it("says what is wrong with the file, with its code, and nothing about internet access", async () => {
    const notModel = path.join(directory, "notes.gguf");
    await writeFile(notModel, "not a model");
    const cli = spawnCli(
      ["serve", "--model", notModel, "--store", `lancedb:${path.join(directory, "store")}`, "--no-ingest"],
      { LLM_TWIN_PORT: "0", LLM_TWIN_HOST: "127.0.0.1" },
    );
    expect(await cli.exited).toBe(1);
    const lines = cli
      .output()
      .split("\n")
      .filter((line) => line.startsWith("llm-twin:"));
    expect(lines, cli.output()).toEqual([
      expect.stringMatching(
        /^llm-twin: could not load the model .*notes\.gguf: .* is not a GGUF model file .*\[configuration_error\]$/,
      ),
    ]);
    expect(cli.output()).not.toContain("Without internet access");
  });
});
