/** The reloader on fake engines: what changed, atomic swap, disposal after draining, failures. */
import { describe, expect, it } from "vitest";
import { AppError } from "../errors/index.js";
import type { LlamaCppEngine } from "../llm/llama-cpp/index.js";
import type { ServedModelPlan } from "../models-registry/serving.js";
import type { ModelEntry } from "../models-registry/types.js";
import { createModelHolder, type ServedVersions } from "./model-holder.js";
import { createModelReloader, describeChanges } from "./reload.js";

type FakeEngine = LlamaCppEngine & { finish(): void; readonly disposedNow: boolean };

function fakeEngine(name: string): FakeEngine {
  let pending = 1;
  let disposed = false;
  let release: () => void = () => undefined;
  const idle = new Promise<void>((resolve) => {
    release = resolve;
  });
  return {
    modelId: name,
    idle: () => (pending === 0 ? Promise.resolve() : idle),
    finish() {
      pending = 0;
      release();
    },
    async dispose() {
      disposed = true;
    },
    get disposedNow() {
      return disposed;
    },
  } as unknown as FakeEngine;
}

function entry(name: string, version: number): ModelEntry {
  return { name, version } as ModelEntry;
}

function plan(adapterVersion: number): ServedModelPlan {
  return {
    source: "registry:base@production",
    base: entry("base", 1),
    adapters: [{ name: "twin", path: "registry:twin@x", scale: 1, entry: entry("twin", adapterVersion) }],
    storage: undefined,
  };
}

const served = (adapterVersion: number): ServedVersions => ({
  model: { name: "base", version: 1 },
  adapters: [{ name: "twin", registry: { name: "twin", version: adapterVersion }, author: "a" }],
});

describe("createModelReloader", () => {
  it("loads nothing when every reference still designates what serves", async () => {
    const holder = createModelHolder();
    holder.setReady(fakeEngine("old"), served(1));
    let loads = 0;
    const reloader = createModelReloader({
      holder,
      plan: async () => plan(1),
      load: async () => {
        loads += 1;
        return { engine: fakeEngine("new"), served: served(1) };
      },
    });
    expect(await reloader.reload()).toEqual({
      changed: false,
      model: { name: "base", from: 1, to: 1 },
      adapters: [{ name: "twin", from: 1, to: 1 }],
    });
    expect(loads).toBe(0);
  });

  it("swaps atomically and disposes the old engine only once its requests have finished", async () => {
    const holder = createModelHolder();
    const old = fakeEngine("old");
    holder.setReady(old, served(1));
    const next = fakeEngine("new");
    const reloader = createModelReloader({
      holder,
      plan: async () => plan(2),
      load: async () => ({ engine: next, served: served(2) }),
    });
    const result = await reloader.reload();
    expect(result.changed).toBe(true);
    expect(result.adapters).toEqual([{ name: "twin", from: 1, to: 2 }]);
    expect(holder.engine).toBe(next);
    expect(holder.served.adapters[0]?.registry?.version).toBe(2);
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(old.disposedNow).toBe(false);
    old.finish();
    await reloader.drain();
    expect(old.disposedNow).toBe(true);
    expect(next.disposedNow).toBe(false);
  });

  it("keeps the old engine serving when the load fails, and rejects with the error", async () => {
    const holder = createModelHolder();
    const old = fakeEngine("old");
    holder.setReady(old, served(1));
    const logged: string[] = [];
    const reloader = createModelReloader({
      holder,
      plan: async () => plan(3),
      load: async () => {
        throw new AppError("integrity_mismatch", "twin@3 changed since it was registered");
      },
      log: (level, _data, message) => logged.push(`${level}: ${message}`),
    });
    await expect(reloader.reload()).rejects.toMatchObject({ code: "integrity_mismatch" });
    expect(holder.engine).toBe(old);
    expect(holder.served.adapters[0]?.registry?.version).toBe(1);
    expect(logged.some((line) => line.startsWith("error: reload failed"))).toBe(true);
    // The next reload is not blocked by the failed one.
    await expect(reloader.reload()).rejects.toMatchObject({ code: "integrity_mismatch" });
  });

  it("refuses while the model is still loading", async () => {
    const reloader = createModelReloader({
      holder: createModelHolder(),
      plan: async () => plan(1),
      load: async () => ({ engine: fakeEngine("new"), served: served(1) }),
    });
    await expect(reloader.reload()).rejects.toMatchObject({ code: "model_loading" });
  });
});

describe("describeChanges", () => {
  it("lists added and removed adapters", () => {
    const result = describeChanges(served(1), {
      model: { name: "base", version: 1 },
      adapters: [{ name: "other", registry: { name: "other", version: 4 } }],
    });
    expect(result.changed).toBe(true);
    expect(result.adapters).toEqual([
      { name: "other", from: null, to: 4 },
      { name: "twin", from: 1, to: null },
    ]);
  });
});

describe("POST /admin/reload", () => {
  const build = async (apiKeys: string[]) => {
    const { buildLlmServerApp } = await import("./app.js");
    const { createLlmServerMetrics } = await import("./metrics.js");
    const holder = createModelHolder();
    return buildLlmServerApp({
      holder,
      metrics: createLlmServerMetrics(holder),
      bodyLimitBytes: 1024,
      apiKeys,
      reload: async () => ({ changed: false, model: null, adapters: [] }),
    });
  };

  it("is refused without API keys, naming the flag to set", async () => {
    const app = await build([]);
    const response = await app.inject({ method: "POST", url: "/admin/reload" });
    expect(response.statusCode).toBe(403);
    const body = response.json() as { error: { code: string; message: string; requestId: string } };
    expect(body.error.code).toBe("forbidden");
    expect(body.error.message).toMatch(/--api-keys/);
    expect(body.error.message).toMatch(/LLM_TWIN_API_KEYS/);
    await app.close();
  });

  it("answers what changed with a key", async () => {
    const app = await build(["k"]);
    expect((await app.inject({ method: "POST", url: "/admin/reload" })).statusCode).toBe(401);
    const response = await app.inject({ method: "POST", url: "/admin/reload", headers: { authorization: "Bearer k" } });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ changed: false, model: null, adapters: [] });
    await app.close();
  });
});
