/**
 * `llm-twin serve` loads its model in the background while it imports and warms up the HTTP app
 * (src/cli/commands/serve.ts): a model that fails to load there still ends start-up with its one
 * line and exit code 1, releasing what was opened (the process exits, it does not hang), and a
 * model that loads gives a service (its store filled from sample-data on this first start) whose
 * /info, /docs and /ready answer.
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tinyModelPath } from "../../src/gguf/index.js";
import { freePort, serveFlags, spawnCli, stop, waitForStatus } from "./processes.js";

describe("llm-twin serve start-up", () => {
  let directory: string;

  beforeAll(async () => {
    directory = await mkdtemp(join(tmpdir(), "llm-twin-serve-startup-"));
  });
  afterAll(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  it("fails with one line when the model cannot load, after opening the store, and exits", async () => {
    // A GGUF cut short: its header reads, its tensors do not.
    const model = join(directory, "truncated.gguf");
    await writeFile(model, (await readFile(await tinyModelPath("chat"))).subarray(0, 300_000));
    const attempt = spawnCli([
      "serve",
      "--model",
      model,
      "--store",
      `lancedb:${join(directory, "store")}`,
      // No --no-ingest: on an empty store that is refused before any model load (serve-no-ingest.test.ts).
      "--port",
      String(await freePort()),
    ]);
    expect(await attempt.exited).toBe(1);
    const errors = attempt
      .output()
      .split("\n")
      .filter((line) => line.startsWith("llm-twin:"));
    expect(errors).toEqual([`llm-twin: Could not load the model ${model}: Failed to load model [model_not_found]`]);
    expect(attempt.output()).not.toContain("    at ");
  });

  it("serves /ready, /info and /docs once the model has loaded", async () => {
    const port = await freePort();
    const serve = spawnCli([
      "serve",
      "--model",
      await tinyModelPath("chat"),
      "--store",
      `lancedb:${join(directory, "store")}`,
      ...serveFlags(port),
    ]);
    try {
      await waitForStatus(`http://127.0.0.1:${port}/ready`, 200, serve, 120_000);
      const info = (await (await fetch(`http://127.0.0.1:${port}/info`)).json()) as { model: { id: string } };
      expect(info.model.id).toMatch(/^chat-/);
      const docs = await fetch(`http://127.0.0.1:${port}/docs/json`);
      expect(docs.status).toBe(200);
      expect(((await docs.json()) as { paths: Record<string, unknown> }).paths).toHaveProperty("/rag");
      await stop(serve);
      expect(serve.child.exitCode).toBe(0);
    } finally {
      await stop(serve);
    }
  });
});
