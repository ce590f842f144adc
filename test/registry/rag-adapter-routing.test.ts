/**
 * End to end on generated models: a base GGUF and one LoRA adapter per author registered in a
 * temporary registry; serve-llm started with `--model registry:base@production` (real llama.cpp,
 * real HTTP); the RAG service (TGI client, adapters learnt from serve-llm's /v1/models) answers
 * questions about two authors with their adapters (response `model` and trace), a third author
 * without an adapter with the base; a promoted version + POST /admin/reload is used by the next
 * request; a broken version is refused and the old one keeps serving.
 */
import { appendFile, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateLora, TINY_MODEL_PRESETS, tinyModelPath } from "../../src/gguf/index.js";
import { createTgiLanguageModel } from "../../src/llm/clients/index.js";
import { defaultBackend } from "../../src/llm/llama-cpp/index.js";
import type { LanguageModel } from "../../src/llm/port.js";
import { parseLlmServerConfig } from "../../src/llm-server/config.js";
import { type RunningLlmServer, startLlmServer } from "../../src/llm-server/server.js";
import {
  createLocalRegistryStorage,
  promoteModel,
  type RegistryStorage,
  registerModel,
} from "../../src/models-registry/index.js";
import { createTracer, openTraceLog, type TraceLog } from "../../src/observability/tracing/index.js";
import { createFingerprint } from "../../src/preprocessing/index.js";
import { type AdapterRouter, createHttpAdapterRouter } from "../../src/rag/adapter-routing.js";
import { resolveRagConfig } from "../../src/rag/config.js";
import { buildRagApp, DEFAULT_RAG_HTTP_CONFIG } from "../../src/rag/http/app.js";
import { createReadinessCheck } from "../../src/rag/readiness.js";
import { fakeEmbedder, fakeStore, MAXIME, PAUL, sampleChunks } from "../../src/rag/testing/fakes.js";
import type { RagResponse } from "../../src/rag/types.js";
import { testEngineBackend } from "../../src/testing/engine-backend.js";

const native = (testEngineBackend().backend ?? defaultBackend()) === "native";
const KEY = "admin-key";

describe.skipIf(!native)("RAG requests routed to each author's registry adapter", () => {
  let directory: string;
  let storage: RegistryStorage;
  let server: RunningLlmServer;
  let llm: LanguageModel;
  let router: AdapterRouter & { refresh(): Promise<void> };
  let routed: { app: FastifyInstance; traceLog: TraceLog };
  let unrouted: { app: FastifyInstance; traceLog: TraceLog };

  const registerAdapter = async (name: string, author: string, seed: number) => {
    const file = path.join(directory, `${name}-${seed}.gguf`);
    await generateLora(file, { base: TINY_MODEL_PRESETS.chat, rank: 4, alpha: 4, seed });
    const entry = await registerModel(storage, { file, name, kind: "adapter", base: "base@production", author });
    return promoteModel(storage, `${name}@${entry.version}`, "production");
  };

  const buildApp = async (adapters: AdapterRouter | undefined) => {
    const embedder = fakeEmbedder();
    const fingerprint = createFingerprint(embedder);
    const now = new Date().toISOString();
    const store = fakeStore(sampleChunks(), embedder, { fingerprint, createdAt: now, updatedAt: now });
    const traceLog = await openTraceLog({ capacity: 20 });
    const app = await buildRagApp({
      deps: {
        store,
        embedder,
        llm,
        config: resolveRagConfig({ expandQueries: 1, selfQuery: "match" }),
        ...(adapters === undefined ? {} : { adapters }),
      },
      http: { ...DEFAULT_RAG_HTTP_CONFIG, rateLimit: false },
      tracer: createTracer([traceLog]),
      traceLog,
      readiness: createReadinessCheck({ store, llm, expectedFingerprintHash: fingerprint.hash, timeoutMs: 500 }),
    });
    return { app, traceLog };
  };

  const ask = async (target: { app: FastifyInstance; traceLog: TraceLog }, query: string) => {
    const response = await target.app.inject({
      method: "POST",
      url: "/rag",
      payload: { query, maxNewTokens: 12, temperature: 0 },
    });
    expect(response.statusCode).toBe(200);
    const trace = target.traceLog.get(String(response.headers["x-trace-id"]));
    const generation = trace?.spans.find((span) => span.name === "generation");
    return { body: response.json() as RagResponse, generation: generation?.attributes };
  };
  const reload = async () => {
    const response = await fetch(`${server.url}/admin/reload`, {
      method: "POST",
      headers: { authorization: `Bearer ${KEY}` },
    });
    return { status: response.status, json: (await response.json()) as Record<string, unknown> };
  };

  const PAUL_QUERY = "What does Paul Iusztin say about RAG pipelines?";
  const MAXIME_QUERY = "What does Maxime Labonne say about LoRA?";
  const ZOE_QUERY = "What does Zoé Ândrade cook?";

  beforeAll(async () => {
    directory = await mkdtemp(path.join(tmpdir(), "llm-twin-rag-routing-"));
    storage = createLocalRegistryStorage(path.join(directory, "registry"));
    const base = await registerModel(storage, { file: await tinyModelPath("chat"), name: "base", kind: "base" });
    await promoteModel(storage, `base@${base.version}`, "production");
    // One by author id, one by full name: both are how a registry entry can name its author.
    await registerAdapter("twin-paul", PAUL.id, 41);
    await registerAdapter("twin-maxime", MAXIME.fullName, 42);
    server = await startLlmServer(
      parseLlmServerConfig({
        model: "registry:base@production",
        registry: storage.location,
        host: "127.0.0.1",
        port: 0,
        parallel: 2,
        threads: 1,
        maxTotalTokens: 1024,
        apiKeys: KEY,
        logLevel: "silent",
        engine: testEngineBackend().backend,
      }),
    );
    await server.ready;
    llm = createTgiLanguageModel({
      url: server.url,
      retries: 0,
      timeoutMs: 30_000,
      headers: { authorization: `Bearer ${KEY}` },
    });
    router = createHttpAdapterRouter({
      url: server.url,
      refreshMs: 60_000,
      fallbackModel: llm.id,
      fetch: (input, init) =>
        fetch(input, { ...init, headers: { ...(init?.headers ?? {}), authorization: `Bearer ${KEY}` } }),
    });
    await router.refresh();
    routed = await buildApp(router);
    unrouted = await buildApp(undefined);
  });
  afterAll(async () => {
    router?.dispose?.();
    await routed?.app.close();
    await unrouted?.app.close();
    await llm?.[Symbol.asyncDispose]();
    await server?.shutdown("tests done");
    if (directory !== undefined) await rm(directory, { recursive: true, force: true });
  });

  it("answers each author with their adapter, and an author without one with the base", async () => {
    const paul = await ask(routed, PAUL_QUERY);
    expect(paul.body.model).toEqual({
      name: "base",
      version: 1,
      adapter: { name: "twin-paul", version: 1 },
    });
    expect(paul.generation).toMatchObject({ model: "base", modelVersion: 1, adapter: "twin-paul", adapterVersion: 1 });
    const maxime = await ask(routed, MAXIME_QUERY);
    expect(maxime.body.model.adapter).toEqual({ name: "twin-maxime", version: 1 });
    const zoe = await ask(routed, ZOE_QUERY);
    expect(zoe.body.model).toEqual({ name: "base", version: 1, adapter: null });
    expect(zoe.generation).toMatchObject({ adapter: null, adapterVersion: null });

    // Same prompts on the base model (no routing), greedy: the adapters change the output.
    const paulOnBase = await ask(unrouted, PAUL_QUERY);
    expect(paulOnBase.body.model.adapter).toBeNull();
    expect(paul.body.answer).not.toBe(paulOnBase.body.answer);
    expect(maxime.body.answer).not.toBe((await ask(unrouted, MAXIME_QUERY)).body.answer);
    expect(zoe.body.answer).toBe((await ask(unrouted, ZOE_QUERY)).body.answer);
  });

  it("uses a promoted adapter version after POST /admin/reload; a broken version keeps the old one", async () => {
    const before = await ask(routed, PAUL_QUERY);
    await registerAdapter("twin-paul", PAUL.id, 51);
    const reloaded = await reload();
    expect(reloaded.status).toBe(200);
    expect(reloaded.json.adapters).toContainEqual({ name: "twin-paul", from: 1, to: 2 });
    await router.refresh();
    const after = await ask(routed, PAUL_QUERY);
    expect(after.body.model.adapter).toEqual({ name: "twin-paul", version: 2 });
    expect(after.generation).toMatchObject({ adapter: "twin-paul", adapterVersion: 2 });
    expect(after.body.answer).not.toBe(before.body.answer);

    const broken = await registerAdapter("twin-paul", PAUL.id, 61);
    if (broken.file.storage !== "copied") throw new Error("expected a copied file");
    await appendFile(await storage.localPath(broken.file.key), "tampered");
    const refused = await reload();
    expect(refused.status).toBe(409);
    expect(refused.json).toMatchObject({ error: { code: "integrity_mismatch" } });
    await router.refresh();
    const still = await ask(routed, PAUL_QUERY);
    expect(still.body.model.adapter).toEqual({ name: "twin-paul", version: 2 });
    expect(still.body.answer).toBe(after.body.answer);
  });
});
