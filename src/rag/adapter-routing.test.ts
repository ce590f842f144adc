/** Adapter routing: author → adapter by id or full name, the catalog from serve-llm's /v1/models, refreshes. */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createEmbedder } from "../embedding/index.js";
import { generateBertGguf, TINY_BERT_OPTIONS } from "../gguf/index.js";
import { createLocalRegistryStorage } from "../models-registry/local-storage.js";
import { registerModel } from "../models-registry/registry.js";
import { catalogFromModelList, createAdapterRouter, createHttpAdapterRouter } from "./adapter-routing.js";
import { MAXIME, PAUL, ZOE } from "./testing/fakes.js";

const MODEL_LIST = {
  object: "list",
  data: [
    { id: "base", object: "model", meta: { registry: { name: "base", version: 3 } } },
    { id: "twin-paul", parent: "base", meta: { registry: { name: "twin-paul", version: 2 }, author: PAUL.id } },
    {
      id: "twin-maxime",
      parent: "base",
      meta: { registry: { name: "twin-maxime", version: 1 }, author: "maxime labonne" },
    },
    { id: "style", parent: "base", meta: { lora_scale: 1, registry: null, author: null } },
  ],
};

describe("adapter routing", () => {
  it("reads serve-llm's model list and routes by author id or full name, else the base", () => {
    const catalog = catalogFromModelList(MODEL_LIST);
    expect(catalog?.model).toEqual({ name: "base", version: 3 });
    const router = createAdapterRouter(() => catalog ?? { model: { name: "?", version: null }, adapters: [] });
    expect(router.route(PAUL)).toEqual({ name: "base", version: 3, adapter: { name: "twin-paul", version: 2 } });
    expect(router.route(MAXIME).adapter).toEqual({ name: "twin-maxime", version: 1 });
    expect(router.route(ZOE)).toEqual({ name: "base", version: 3, adapter: null });
    expect(router.route(undefined).adapter).toBeNull();
    expect(catalogFromModelList({ error: "nope" })).toBeUndefined();
  });

  it("refreshes from /v1/models; until it answers, and when it fails, requests use the base (told once)", async () => {
    let body: unknown = MODEL_LIST;
    let fail = true;
    const warnings: string[] = [];
    const router = createHttpAdapterRouter({
      url: "http://llm.invalid/",
      refreshMs: 60_000,
      fallbackModel: "llm-client",
      fetch: (async (url: string) => {
        expect(url).toBe("http://llm.invalid/v1/models");
        if (fail) throw new Error("connection refused");
        return new Response(JSON.stringify(body), { status: 200 });
      }) as never,
      warn: (message) => warnings.push(message),
    });
    try {
      await router.refresh();
      await router.refresh();
      expect(router.route(PAUL)).toEqual({ name: "llm-client", version: null, adapter: null });
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatch(/connection refused/);
      fail = false;
      await router.refresh();
      expect(router.route(PAUL).adapter).toEqual({ name: "twin-paul", version: 2 });
      body = { ...MODEL_LIST, data: MODEL_LIST.data.filter((entry) => entry.id !== "twin-paul") };
      await router.refresh();
      expect(router.route(PAUL).adapter).toBeNull();
    } finally {
      router.dispose?.();
    }
  });

  it("--embedder gguf:registry:<name>@<version> loads the registered embedding model", async () => {
    const directory = await mkdtemp(join(tmpdir(), "llm-twin-registry-embedder-"));
    try {
      const storage = createLocalRegistryStorage(join(directory, "registry"));
      const generated = await generateBertGguf(join(directory, "bert.gguf"), TINY_BERT_OPTIONS);
      await registerModel(storage, { file: generated.path, name: "minilm", kind: "base" });
      const embedder = await createEmbedder("gguf:registry:minilm@1", {
        registry: storage.location,
        cacheDir: directory,
        threads: 1,
      });
      try {
        expect(embedder.dimensions).toBe(TINY_BERT_OPTIONS.embeddingLength);
        expect(embedder.id).toMatch(/^gguf:bert\.gguf@/);
      } finally {
        await embedder[Symbol.asyncDispose]();
      }
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });
});
