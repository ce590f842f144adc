/**
 * The CLI as in production, on generated models: `llm-twin serve-llm --model registry:base@production
 * --registry <dir>` (adapters per author of the real LLM Twin corpus, registered by full name) and
 * `llm-twin serve-rag` in front of it: /rag about an author answers with that author's adapter,
 * named in the response; POST /admin/reload without --api-keys is refused with the flag to set.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateLora, TINY_MODEL_PRESETS, tinyModelPath } from "../../src/gguf/index.js";
import { defaultBackend } from "../../src/llm/llama-cpp/index.js";
import { createLocalRegistryStorage, promoteModel, registerModel } from "../../src/models-registry/index.js";
import type { RagResponse } from "../../src/rag/types.js";
import { testEngineBackend } from "../../src/testing/engine-backend.js";
import { type CliProcess, freePort, spawnCli, stop, waitForStatus } from "../rag/processes.js";
import { ARTICLES, type IngestedCorpus, ingestCorpus } from "../rag/support.js";

const native = (testEngineBackend().backend ?? defaultBackend()) === "native";

describe.skipIf(ARTICLES === undefined || !native)("serve-llm from the registry behind serve-rag (CLI)", () => {
  let directory: string;
  let corpus: IngestedCorpus;
  let llm: CliProcess | undefined;
  let rag: CliProcess | undefined;
  let llmUrl: string;
  let ragUrl: string;

  beforeAll(async () => {
    directory = await mkdtemp(path.join(tmpdir(), "llm-twin-split-registry-"));
    const registry = path.join(directory, "registry");
    const storage = createLocalRegistryStorage(registry);
    await registerModel(storage, { file: await tinyModelPath("chat"), name: "base", kind: "base" });
    await promoteModel(storage, "base@1", "production");
    const adapter = path.join(directory, "paul.gguf");
    await generateLora(adapter, { base: TINY_MODEL_PRESETS.chat, rank: 4, alpha: 4, seed: 81 });
    await registerModel(storage, {
      file: adapter,
      name: "twin-paul",
      kind: "adapter",
      base: "base@1",
      author: "Paul Iusztin",
    });
    await promoteModel(storage, "twin-paul@1", "production");
    corpus = await ingestCorpus(ARTICLES as string);
    const llmPort = await freePort();
    const ragPort = await freePort();
    llmUrl = `http://127.0.0.1:${llmPort}`;
    ragUrl = `http://127.0.0.1:${ragPort}`;
    llm = spawnCli(
      ["serve-llm", "--model", "registry:base@production", "--host", "127.0.0.1", "--port", String(llmPort)],
      { LLM_TWIN_REGISTRY: registry, LLM_TWIN_THREADS: "1", LLM_TWIN_PARALLEL: "2" },
    );
    await waitForStatus(`${llmUrl}/health`, 200, llm);
    rag = spawnCli(
      [
        "serve-rag",
        "--llm-url",
        llmUrl,
        "--store",
        corpus.storeUri,
        "--port",
        String(ragPort),
        "--context-tokens",
        "150",
        "--log-level",
        "warn",
      ],
      { LLM_TWIN_RATE_LIMIT: "1000" },
    );
    await waitForStatus(`${ragUrl}/ready`, 200, rag);
  });
  afterAll(async () => {
    await stop(rag);
    await stop(llm);
    await corpus?.cleanup();
    if (directory !== undefined) await rm(directory, { recursive: true, force: true });
  });

  it("answers about Paul with his adapter and about Maxime with the base", async () => {
    const ask = async (query: string) => {
      const response = await fetch(`${ragUrl}/rag`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ query, maxNewTokens: 8, temperature: 0, expandQueries: 1 }),
      });
      expect(response.status).toBe(200);
      return (await response.json()) as RagResponse;
    };
    const paul = await ask("My name is Paul Iusztin. Draft a LinkedIn post about RAG systems.");
    expect(paul.model).toEqual({ name: "base", version: 1, adapter: { name: "twin-paul", version: 1 } });
    const maxime = await ask("Write a short article about fine-tuning LLMs in the style of Maxime Labonne");
    expect(maxime.model).toEqual({ name: "base", version: 1, adapter: null });
  });

  it("refuses POST /admin/reload when serve-llm has no API keys, naming the flag", async () => {
    const response = await fetch(`${llmUrl}/admin/reload`, { method: "POST" });
    expect(response.status).toBe(403);
    const body = (await response.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe("forbidden");
    expect(body.error.message).toMatch(/--api-keys/);
  });
});
