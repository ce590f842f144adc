/**
 * `llm-twin serve` through the CLI: an empty store is filled on first start, then the one-process
 * service answers; without internet the default model falls back to the offline demo model with
 * a warning, or, with --no-demo-fallback, fails with a message that says to pass --model. The
 * default embedder falls back the same way to the static one (vitest points HF_ENDPOINT at a closed
 * port), and a store built with it keeps it.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tinyModelPath } from "../../src/gguf/index.js";
import type { RagResponse } from "../../src/rag/types.js";
import { type CliProcess, freePort, spawnCli, stop, waitForStatus } from "./processes.js";
import { ARTICLES } from "./support.js";

describe.skipIf(ARTICLES === undefined)("llm-twin serve", () => {
  let directory: string;
  let serve: CliProcess | undefined;

  beforeAll(async () => {
    directory = await mkdtemp(join(tmpdir(), "llm-twin-serve-"));
  });
  afterAll(async () => {
    await stop(serve);
    await rm(directory, { recursive: true, force: true });
  });

  it("ingests into an empty store on first start, then answers /rag", async () => {
    const port = await freePort();
    serve = spawnCli([
      "serve",
      "--model",
      await tinyModelPath("chat"),
      "--store",
      `lancedb:${join(directory, "store")}`,
      "--sample-data",
      ARTICLES as string,
      "--port",
      String(port),
      "--threads",
      "1",
      "--log-level",
      "warn",
      "--expand-queries",
      "1",
    ]);
    await waitForStatus(`http://127.0.0.1:${port}/ready`, 200, serve, 120_000);
    expect(serve.output()).toContain("is empty: ingesting");
    expect(serve.output()).toContain("could not download the default embedding model hf:");
    expect(serve.output()).toContain("--embedder static");
    const response = await fetch(`http://127.0.0.1:${port}/rag`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        query: "My name is Paul Iusztin. Draft a LinkedIn post about RAG systems.",
        maxNewTokens: 8,
      }),
    });
    expect(response.status).toBe(200);
    const body = (await response.json()) as RagResponse;
    // Only the sources that reached the prompt are listed (the tiny model's tokenizer makes them long).
    expect(body.sources.length).toBeLessThanOrEqual(3);
    expect(body.sources.every((source) => source.author.fullName === "Paul Iusztin")).toBe(true);
    const info = (await (await fetch(`http://127.0.0.1:${port}/info`)).json()) as { model: { demo: boolean } };
    expect(info.model.demo).toBe(false);
    await stop(serve);
    expect(serve.child.exitCode).toBe(0);
  });

  it("serves the offline demo model, saying so, when the default model cannot be downloaded", async () => {
    const closedPort = await freePort();
    const port = await freePort();
    const demo = spawnCli(
      ["serve", "--store", `lancedb:${join(directory, "store")}`, "--port", String(port), "--threads", "1"],
      { HF_ENDPOINT: `http://127.0.0.1:${closedPort}` },
    );
    try {
      await waitForStatus(`http://127.0.0.1:${port}/ready`, 200, demo, 120_000);
      expect(demo.output()).toContain("could not download the default model hf:");
      expect(demo.output()).toContain("offline DEMO model");
      expect(demo.output()).toContain("--model");
      // The service says so too, for the chat page.
      const info = (await (await fetch(`http://127.0.0.1:${port}/info`)).json()) as { model: { demo: boolean } };
      expect(info.model.demo).toBe(true);
      expect(demo.output()).toContain("the store was built with the static embedder");
      expect(demo.output()).not.toContain("could not download the default embedding model");
    } finally {
      await stop(demo);
    }
  });

  it("says to pass --model when the default model cannot be downloaded and the demo fallback is off", async () => {
    const closedPort = await freePort();
    const attempt = spawnCli(
      ["serve", "--store", `lancedb:${join(directory, "store")}`, "--port", "0", "--no-ingest", "--no-demo-fallback"],
      { HF_ENDPOINT: `http://127.0.0.1:${closedPort}`, LLM_TWIN_CACHE_DIR: join(directory, "cache") },
    );
    expect(await attempt.exited).toBe(1);
    expect(attempt.output()).toContain("could not download the default model hf:");
    expect(attempt.output()).toContain("--model");
    expect(attempt.output()).toContain("LLM_TWIN_MODEL");
  });
});
