/**
 * One-process serving from the registry (what `serve --model registry:…` runs): the in-process
 * engine with the base's production adapters, requests routed by author, POST /admin/reload on
 * the RAG app swapping in a promoted adapter version while a request in flight finishes on the old.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateLora, TINY_MODEL_PRESETS, tinyModelPath } from "../../gguf/index.js";
import { defaultBackend } from "../../llm/llama-cpp/index.js";
import { createLocalRegistryStorage } from "../../models-registry/local-storage.js";
import { promoteModel, registerModel } from "../../models-registry/registry.js";
import type { RegistryStorage } from "../../models-registry/storage.js";
import { createTracer, openTraceLog } from "../../observability/tracing/index.js";
import { createFingerprint } from "../../preprocessing/index.js";
import { testEngineBackend } from "../../testing/engine-backend.js";
import { createAdapterRouter } from "../adapter-routing.js";
import { resolveRagConfig } from "../config.js";
import { buildRagApp, DEFAULT_RAG_HTTP_CONFIG } from "../http/app.js";
import { createReadinessCheck } from "../readiness.js";
import { fakeEmbedder, fakeStore, PAUL, sampleChunks } from "../testing/fakes.js";
import type { RagResponse } from "../types.js";
import { type RegistryModel, startRegistryModel } from "./registry-model.js";

const backend = testEngineBackend().backend ?? defaultBackend();

describe.skipIf(backend !== "native")("serve from the registry, in one process", () => {
  let directory: string;
  let storage: RegistryStorage;
  let model: RegistryModel;
  let app: FastifyInstance;

  const registerAdapter = async (seed: number) => {
    const file = path.join(directory, `paul-${seed}.gguf`);
    await generateLora(file, { base: TINY_MODEL_PRESETS.chat, rank: 4, alpha: 4, seed });
    const entry = await registerModel(storage, {
      file,
      name: "twin-paul",
      kind: "adapter",
      base: "base@1",
      author: PAUL.id,
    });
    await promoteModel(storage, `twin-paul@${entry.version}`, "production");
  };
  const ask = async () => {
    const response = await app.inject({
      method: "POST",
      url: "/rag",
      headers: { authorization: "Bearer k" },
      payload: { query: "What does Paul Iusztin say about RAG?", maxNewTokens: 12, temperature: 0 },
    });
    expect(response.statusCode).toBe(200);
    return response.json() as RagResponse;
  };

  beforeAll(async () => {
    directory = await mkdtemp(path.join(tmpdir(), "llm-twin-serve-registry-"));
    storage = createLocalRegistryStorage(path.join(directory, "registry"));
    await registerModel(storage, { file: await tinyModelPath("chat"), name: "base", kind: "base" });
    await promoteModel(storage, "base@1", "production");
    await registerAdapter(71);
    model = await startRegistryModel({
      model: "registry:base@production",
      registry: storage.location,
      engine: { parallel: 2, threads: 1, backend },
    });
    const embedder = fakeEmbedder();
    const fingerprint = createFingerprint(embedder);
    const now = new Date().toISOString();
    const store = fakeStore(sampleChunks(), embedder, { fingerprint, createdAt: now, updatedAt: now });
    const traceLog = await openTraceLog({ capacity: 10 });
    app = await buildRagApp({
      deps: {
        store,
        embedder,
        llm: model.llm,
        config: resolveRagConfig({ expandQueries: 1, selfQuery: "match" }),
        adapters: createAdapterRouter(() => model.catalog()),
      },
      http: { ...DEFAULT_RAG_HTTP_CONFIG, rateLimit: false, apiKeys: ["k"] },
      tracer: createTracer([traceLog]),
      traceLog,
      readiness: createReadinessCheck({
        store,
        llm: model.llm,
        expectedFingerprintHash: fingerprint.hash,
        timeoutMs: 500,
      }),
      reload: model.reload,
    });
  });
  afterAll(async () => {
    await app?.close();
    await model?.llm[Symbol.asyncDispose]();
    if (directory !== undefined) await rm(directory, { recursive: true, force: true });
  });

  it("routes to the author's adapter and swaps in a promoted version on POST /admin/reload", async () => {
    const before = await ask();
    expect(before.model).toEqual({ name: "base", version: 1, adapter: { name: "twin-paul", version: 1 } });
    const inFlight = ask();
    const countingBefore = model.limits.identity;
    await registerAdapter(72);
    const reload = await app.inject({ method: "POST", url: "/admin/reload", headers: { authorization: "Bearer k" } });
    expect(reload.statusCode).toBe(200);
    expect(reload.json()).toEqual({
      changed: true,
      model: { name: "base", from: 1, to: 1 },
      adapters: [{ name: "twin-paul", from: 1, to: 2 }],
    });
    expect((await inFlight).answer).toBe(before.answer);
    // The RAG budget's cached token counts follow the engine now serving (src/rag/token-count-cache.ts).
    expect(model.limits.identity).not.toBe(countingBefore);
    expect(model.limits.identity).toBe(model.llm.engine);
    const after = await ask();
    expect(after.model.adapter).toEqual({ name: "twin-paul", version: 2 });
    expect(after.answer).not.toBe(before.answer);
    expect((await app.inject({ method: "POST", url: "/admin/reload" })).statusCode).toBe(401);
  });
});
