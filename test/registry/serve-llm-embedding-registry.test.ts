/**
 * `serve-llm --embedding-model registry:<name>@<version|stage>` resolves through --registry, as
 * --model does: a generated BERT GGUF registered in a registry that is not the default one serves
 * /v1/embeddings under its registry name. An unknown reference or an adapter is refused with a
 * stable code and what to do; the CLI logs it as one line without a stack and exits 1.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  generateBertGguf,
  generateLora,
  TINY_BERT_OPTIONS,
  TINY_MODEL_PRESETS,
  tinyModelPath,
} from "../../src/gguf/index.js";
import { parseLlmServerConfig } from "../../src/llm-server/config.js";
import { type RunningLlmServer, startLlmServer } from "../../src/llm-server/server.js";
import {
  createLocalRegistryStorage,
  promoteModel,
  type RegistryStorage,
  registerModel,
} from "../../src/models-registry/index.js";
import { spawnCli } from "../../src/testing/cli-process.js";

let directory: string;
let storage: RegistryStorage;
let chatModel: string;

const startServer = (embeddingModel: string) =>
  startLlmServer(
    parseLlmServerConfig({
      model: chatModel,
      embeddingModel,
      registry: storage.location,
      // The default registry (<cacheDir>/registry) is empty: only --registry holds the model.
      cacheDir: path.join(directory, "cache"),
      host: "127.0.0.1",
      port: 0,
      parallel: 1,
      threads: 1,
      logLevel: "silent",
    }),
  );

beforeAll(async () => {
  directory = await mkdtemp(path.join(tmpdir(), "llm-twin-embedding-registry-"));
  storage = createLocalRegistryStorage(path.join(directory, "elsewhere", "registry"));
  chatModel = await tinyModelPath("chat");
  const bert = await generateBertGguf(path.join(directory, "tiny-bert.gguf"), TINY_BERT_OPTIONS);
  const entry = await registerModel(storage, { file: bert.path, name: "minilm", kind: "base" });
  await promoteModel(storage, `minilm@${entry.version}`, "production");
  const adapter = path.join(directory, "adapter.gguf");
  await generateLora(adapter, { base: TINY_MODEL_PRESETS.chat, rank: 4, alpha: 4, seed: 3 });
  await registerModel(storage, { file: adapter, name: "style", kind: "adapter", base: "minilm@1" });
}, 120_000);
afterAll(async () => {
  if (directory !== undefined) await rm(directory, { recursive: true, force: true });
});

describe("serve-llm --embedding-model registry:...", () => {
  let server: RunningLlmServer | undefined;
  afterAll(async () => {
    await server?.shutdown("tests done");
  });

  it("serves the registered embedding model on /v1/embeddings under its registry name", async () => {
    server = await startServer("registry:minilm@production");
    await Promise.all([server.ready, server.embeddingsReady]);
    const response = await fetch(`${server.url}/v1/embeddings`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "minilm", input: ["the twin writes"] }),
    });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { model: string; data: Array<{ embedding: number[] }> };
    expect(body.model).toBe("minilm");
    expect(body.data[0]?.embedding).toHaveLength(TINY_BERT_OPTIONS.embeddingLength);
    const models = (await (await fetch(`${server.url}/v1/models`)).json()) as {
      data: Array<{ id: string; meta: Record<string, unknown> }>;
    };
    expect(models.data.find((model) => model.id === "minilm")?.meta).toMatchObject({
      type: "embedding",
      registry: { name: "minilm", version: 1 },
    });
    const info = (await (await fetch(`${server.url}/info`)).json()) as { embedding_model: Record<string, unknown> };
    expect(info.embedding_model).toMatchObject({
      state: "ready",
      id: "minilm",
      registry: { name: "minilm", version: 1 },
    });
  });

  it("refuses an unknown reference with model_not_found, naming the registry and the command that lists it", async () => {
    const failing = await startServer("registry:nope@production");
    try {
      await expect(failing.embeddingsReady).rejects.toMatchObject({
        code: "model_not_found",
        message: expect.stringMatching(/nope.*elsewhere.*llm-twin models list/s),
      });
      const response = await fetch(`${failing.url}/v1/embeddings`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ input: "x" }),
      });
      expect(response.status).toBe(503);
      expect(await response.json()).toMatchObject({ error: { code: "dependency_unavailable" } });
    } finally {
      await failing.shutdown("tests done");
    }
  });

  it("refuses an adapter with configuration_error", async () => {
    const failing = await startServer("registry:style@1");
    try {
      await expect(failing.embeddingsReady).rejects.toMatchObject({
        code: "configuration_error",
        message: expect.stringContaining("--kind base"),
      });
    } finally {
      await failing.shutdown("tests done");
    }
  });

  it("the CLI logs an unknown reference as one line with its code, no stack, and exits 1", async () => {
    const cli = spawnCli(
      [
        "serve-llm",
        "--model",
        chatModel,
        "--embedding-model",
        "registry:nope@2",
        "--registry",
        storage.location,
        "--port",
        "0",
        "--threads",
        "1",
      ],
      { LLM_TWIN_CACHE_DIR: path.join(directory, "cache"), LLM_TWIN_REGISTRY: undefined },
    );
    expect(await cli.exited).toBe(1);
    const output = cli.output();
    const logged = output
      .split("\n")
      .filter((line) => line.startsWith("{"))
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .find((line) => line.msg === "the embedding model could not be loaded");
    expect(logged).toMatchObject({ code: "model_not_found", reason: expect.stringContaining("nope has no version 2") });
    expect(logged).not.toHaveProperty("err");
    expect(output).toMatch(/llm-twin: nope has no version 2 .*\[model_not_found\]/);
    expect(output).not.toMatch(/\n\s+at /);
  }, 120_000);
});
