/**
 * serve-llm from the model registry, on generated models: a base GGUF and one LoRA adapter per
 * author registered in a temporary registry; `--model registry:base@production` loads the base
 * and its production adapters (listed with their versions and authors); POST /admin/reload swaps
 * in a promoted version; a broken version (changed file, missing file, adapter for another base) is
 * refused and the old one keeps serving. The embedding model (--embedding-model) is not part of a
 * reload: it keeps serving /v1/embeddings.
 */
import { appendFile, copyFile, mkdtemp, rm, unlink } from "node:fs/promises";
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
import { defaultBackend } from "../../src/llm/llama-cpp/index.js";
import { parseLlmServerConfig } from "../../src/llm-server/config.js";
import { type RunningLlmServer, startLlmServer } from "../../src/llm-server/server.js";
import {
  createLocalRegistryStorage,
  type ModelEntry,
  promoteModel,
  type RegistryStorage,
  registerModel,
} from "../../src/models-registry/index.js";
import { testEngineBackend } from "../../src/testing/engine-backend.js";

const native = (testEngineBackend().backend ?? defaultBackend()) === "native";
const KEY = "reload-key";

describe.skipIf(!native)("serve-llm --model registry:...", () => {
  let directory: string;
  let storage: RegistryStorage;
  let server: RunningLlmServer;

  const adapterFile = async (name: string, seed: number) => {
    const file = path.join(directory, `${name}.gguf`);
    await generateLora(file, { base: TINY_MODEL_PRESETS.chat, rank: 4, alpha: 4, seed });
    return file;
  };
  const registerAdapter = async (name: string, author: string, seed: number): Promise<ModelEntry> => {
    const entry = await registerModel(storage, {
      file: await adapterFile(`${name}-${seed}`, seed),
      name,
      kind: "adapter",
      base: "base@production",
      author,
    });
    return promoteModel(storage, `${name}@${entry.version}`, "production");
  };
  const request = async (method: "GET" | "POST", url: string, body?: unknown, key: string | null = KEY) => {
    const response = await fetch(`${server.url}${url}`, {
      method,
      headers: {
        ...(key === null ? {} : { authorization: `Bearer ${key}` }),
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: response.status, json: (await response.json()) as Record<string, unknown> };
  };
  const embed = async () => {
    const { status, json } = await request("POST", "/v1/embeddings", { input: ["the twin writes"] });
    expect(status).toBe(200);
    return (json.data as Array<{ embedding: number[] }>)[0]?.embedding;
  };
  const generate = async (adapter: string | undefined, maxNewTokens = 10) => {
    const { status, json } = await request("POST", "/generate", {
      inputs: "The twin writes",
      parameters: {
        max_new_tokens: maxNewTokens,
        ignore_eos: true,
        ...(adapter === undefined ? {} : { adapter_id: adapter }),
      },
    });
    expect(status).toBe(200);
    return json.generated_text as string;
  };

  beforeAll(async () => {
    directory = await mkdtemp(path.join(tmpdir(), "llm-twin-serve-registry-"));
    storage = createLocalRegistryStorage(path.join(directory, "registry"));
    const base = await registerModel(storage, { file: await tinyModelPath("chat"), name: "base", kind: "base" });
    await promoteModel(storage, `base@${base.version}`, "production");
    await registerAdapter("twin-alice", "alice-id", 11);
    await registerAdapter("twin-bob", "bob-id", 12);
    // A staging adapter named explicitly: --lora pinned=registry:twin-pinned@staging.
    const pinned = await registerModel(storage, {
      file: await adapterFile("twin-pinned", 14),
      name: "twin-pinned",
      kind: "adapter",
      base: "base@1",
      author: "dora-id",
    });
    await promoteModel(storage, `twin-pinned@${pinned.version}`, "staging");
    // A staging-only adapter is not loaded.
    await registerModel(storage, {
      file: await adapterFile("twin-carol", 13),
      name: "twin-carol",
      kind: "adapter",
      base: "base@1",
      author: "carol-id",
    });
    const bert = await generateBertGguf(path.join(directory, "tiny-bert.gguf"), TINY_BERT_OPTIONS);
    server = await startLlmServer(
      parseLlmServerConfig({
        model: "registry:base@production",
        embeddingModel: bert.path,
        registry: storage.location,
        host: "127.0.0.1",
        port: 0,
        parallel: 2,
        threads: 1,
        maxTotalTokens: 512,
        apiKeys: KEY,
        loras: ["pinned=registry:twin-pinned@staging"],
        logLevel: "silent",
        engine: testEngineBackend().backend,
      }),
    );
    await Promise.all([server.ready, server.embeddingsReady]);
  });
  afterAll(async () => {
    await server?.shutdown("tests done");
    if (directory !== undefined) await rm(directory, { recursive: true, force: true });
  });

  it("loads the production adapters of the base, listed with their registry versions and authors", async () => {
    const models = (await request("GET", "/v1/models")).json as {
      data: Array<{ id: string; parent?: string; meta: Record<string, unknown> }>;
    };
    expect(models.data.map((model) => model.id)).toEqual(["base", "pinned", "twin-alice", "twin-bob", "tiny-bert"]);
    expect(models.data[0]?.meta.registry).toEqual({ name: "base", version: 1 });
    expect(models.data[1]?.meta).toMatchObject({ registry: { name: "twin-pinned", version: 1 }, author: "dora-id" });
    expect(models.data[2]?.meta).toMatchObject({ registry: { name: "twin-alice", version: 1 }, author: "alice-id" });
    const info = (await request("GET", "/info")).json;
    expect(info.model_registry).toEqual({ name: "base", version: 1 });
    expect(info.adapters).toEqual([
      { name: "pinned", scale: 1, registry: { name: "twin-pinned", version: 1 }, author: "dora-id" },
      { name: "twin-alice", scale: 1, registry: { name: "twin-alice", version: 1 }, author: "alice-id" },
      { name: "twin-bob", scale: 1, registry: { name: "twin-bob", version: 1 }, author: "bob-id" },
    ]);
    const base = await generate(undefined);
    const alice = await generate("twin-alice");
    const bob = await generate("twin-bob");
    expect(new Set([base, alice, bob]).size).toBe(3);
  });

  it("POST /admin/reload with nothing promoted changes nothing; it needs the key", async () => {
    expect((await request("POST", "/admin/reload", undefined, null)).status).toBe(401);
    const { status, json } = await request("POST", "/admin/reload");
    expect(status).toBe(200);
    expect(json).toMatchObject({ changed: false, model: { name: "base", from: 1, to: 1 } });
  });

  it("swaps in a promoted adapter version; a request in flight finishes on the old one", async () => {
    const vector = await embed();
    const before = await generate("twin-alice", 200);
    const inFlight = generate("twin-alice", 200);
    await registerAdapter("twin-alice", "alice-id", 21);
    const reload = await request("POST", "/admin/reload");
    expect(reload.status).toBe(200);
    expect(reload.json).toMatchObject({ changed: true, model: { name: "base", from: 1, to: 1 } });
    expect(reload.json.adapters).toEqual([
      { name: "pinned", from: 1, to: 1 },
      { name: "twin-alice", from: 1, to: 2 },
      { name: "twin-bob", from: 1, to: 1 },
    ]);
    expect(await inFlight).toBe(before);
    const after = await generate("twin-alice", 200);
    expect(after).not.toBe(before);
    const info = (await request("GET", "/info")).json as { adapters: Array<{ registry: unknown }> };
    expect(info.adapters[1]?.registry).toEqual({ name: "twin-alice", version: 2 });
    // The embedding model was not reloaded: it still serves, the same vectors, owned by the
    // server's resource stack (released at shutdown).
    expect(server.resources.held).toContain("embedding model");
    expect(await embed()).toEqual(vector);
    expect((await request("GET", "/info")).json.embedding_model).toMatchObject({ state: "ready", id: "tiny-bert" });
  });

  it("refuses a broken version (changed file) and keeps the old one serving", async () => {
    const serving = await generate("twin-bob");
    const broken = await registerAdapter("twin-bob", "bob-id", 31);
    if (broken.file.storage !== "copied") throw new Error("expected a copied file");
    await appendFile(await storage.localPath(broken.file.key), "tampered");
    const reload = await request("POST", "/admin/reload");
    expect(reload.status).toBe(409);
    expect(reload.json).toMatchObject({ error: { code: "integrity_mismatch" } });
    expect(String((reload.json.error as { message: string }).message)).toMatch(/twin-bob@2/);
    expect(await generate("twin-bob")).toBe(serving);
    const info = (await request("GET", "/info")).json as { adapters: Array<{ name: string; registry: unknown }> };
    expect(info.adapters.find((adapter) => adapter.name === "twin-bob")?.registry).toEqual({
      name: "twin-bob",
      version: 1,
    });
  });

  it("refuses a missing file and an adapter for another base, keeping the old versions", async () => {
    const serving = await generate("twin-bob");
    // A linked file deleted after registration.
    const linked = path.join(directory, "bob-linked.gguf");
    await copyFile(await adapterFile("bob-41", 41), linked);
    const entry = await registerModel(storage, {
      file: linked,
      name: "twin-bob",
      kind: "adapter",
      base: "base@1",
      author: "bob-id",
      link: true,
    });
    await promoteModel(storage, `twin-bob@${entry.version}`, "production");
    await unlink(linked);
    const missing = await request("POST", "/admin/reload");
    expect(missing.status).toBe(404);
    expect(missing.json).toMatchObject({ error: { code: "not_found" } });
    expect(await generate("twin-bob")).toBe(serving);

    // The pinned stage now designates an adapter trained on another base.
    const other = await registerModel(storage, {
      file: await adapterFile("other-base", 42),
      name: "other",
      kind: "base",
    });
    const foreign = await registerModel(storage, {
      file: await adapterFile("pinned-foreign", 43),
      name: "twin-pinned",
      kind: "adapter",
      base: `other@${other.version}`,
    });
    await promoteModel(storage, `twin-pinned@${foreign.version}`, "staging");
    const mismatch = await request("POST", "/admin/reload");
    expect(mismatch.status).toBe(409);
    expect(mismatch.json).toMatchObject({ error: { code: "adapter_base_mismatch" } });
    const info = (await request("GET", "/info")).json as { adapters: Array<{ name: string; registry: unknown }> };
    expect(info.adapters.find((adapter) => adapter.name === "pinned")?.registry).toEqual({
      name: "twin-pinned",
      version: 1,
    });
  });
});
