/** What a registry base model brings when served, and the one resolver of `registry:` sources. */
import { appendFile, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tinyModelPath } from "../gguf/index.js";
import { resolveModelFile, resolveModelSource } from "../model-source/index.js";
import { createLocalRegistryStorage } from "./local-storage.js";
import { promoteModel, registerModel } from "./registry.js";
import { loadServedModel, planServedModel, planVersions } from "./serving.js";
import type { RegistryStorage } from "./storage.js";

describe("serving from the registry", () => {
  let scratch: string;
  let storage: RegistryStorage;
  const file = async (name: string, text: string) => {
    const path = join(scratch, name);
    await writeFile(path, text);
    return path;
  };
  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), "llm-twin-serving-"));
    storage = createLocalRegistryStorage(join(scratch, "registry"));
    await registerModel(storage, { file: await tinyModelPath("chat"), name: "base", kind: "base" });
    await promoteModel(storage, "base@1", "production");
    await registerModel(storage, { file: await file("other.gguf", "other"), name: "other-base", kind: "base" });
    for (const [name, author] of [
      ["twin-b", "bob"],
      ["twin-a", "alice"],
    ] as const) {
      await registerModel(storage, {
        file: await file(`${name}.gguf`, name),
        name,
        kind: "adapter",
        base: "base@1",
        author,
      });
      await promoteModel(storage, `${name}@1`, "production");
    }
    await registerModel(storage, {
      file: await file("staged.gguf", "s"),
      name: "twin-s",
      kind: "adapter",
      base: "base@1",
    });
    await promoteModel(storage, "twin-s@1", "staging");
    await registerModel(storage, {
      file: await file("foreign.gguf", "f"),
      name: "twin-foreign",
      kind: "adapter",
      base: "other-base@1",
    });
    await promoteModel(storage, "twin-foreign@1", "production");
  });
  afterAll(async () => {
    await rm(scratch, { recursive: true, force: true });
  });

  it("plans the base and its production adapters only, by name", async () => {
    const plan = await planServedModel({ model: "registry:base@production", registry: storage.location });
    expect(planVersions(plan)).toEqual({
      model: { name: "base", version: 1 },
      adapters: [
        { name: "twin-a", registry: { name: "twin-a", version: 1 } },
        { name: "twin-b", registry: { name: "twin-b", version: 1 } },
      ],
    });
    const served = await loadServedModel(plan, async () => {
      throw new Error("not called for a registry base");
    });
    expect(served.registry).toEqual({ name: "base", version: 1 });
    expect(served.adapters.map(({ name, author, scale }) => ({ name, author, scale }))).toEqual([
      { name: "twin-a", author: "alice", scale: 1 },
      { name: "twin-b", author: "bob", scale: 1 },
    ]);
    const off = await planServedModel({
      model: "registry:base@1",
      registry: storage.location,
      productionAdapters: false,
    });
    expect(off.adapters).toEqual([]);
  });

  it("takes --lora registry references beside, and refuses an adapter of another base", async () => {
    const plan = await planServedModel({
      model: "registry:base@1",
      registry: storage.location,
      loras: [{ name: "staged", path: "registry:twin-s@staging", scale: 0.5 }],
    });
    expect(plan.adapters.map((adapter) => adapter.name)).toEqual(["staged", "twin-a", "twin-b"]);
    await expect(
      planServedModel({
        model: "registry:base@1",
        registry: storage.location,
        loras: [{ name: "foreign", path: "registry:twin-foreign@1", scale: 1 }],
      }),
    ).rejects.toMatchObject({ code: "adapter_base_mismatch", message: expect.stringMatching(/other-base@1/) });
    await expect(planServedModel({ model: "registry:twin-a@1", registry: storage.location })).rejects.toMatchObject({
      code: "configuration_error",
      message: expect.stringMatching(/is an adapter/),
    });
  });

  it("resolveModelFile reads registry: sources through the registry and checks integrity", async () => {
    const resolved = await resolveModelSource("registry:base@production", { registry: storage.location });
    expect(resolved.entry).toMatchObject({ name: "base", version: 1 });
    expect(await resolveModelFile("registry:base", { registry: storage.location })).toBe(resolved.path);
    await expect(resolveModelFile("registry:base@staging", { registry: storage.location })).rejects.toMatchObject({
      code: "model_not_found",
    });
    // A file changed after registration is refused.
    await registerModel(storage, { file: await file("tampered.gguf", "GGUF..."), name: "tampered", kind: "base" });
    expect((await resolveModelSource("registry:tampered", { registry: storage.location })).entry?.version).toBe(1);
    const entry = (await planServedModel({ model: "registry:tampered", registry: storage.location })).base;
    if (entry?.file.storage !== "copied") throw new Error("expected a copied file");
    await appendFile(await storage.localPath(entry.file.key), "more");
    await expect(resolveModelFile("registry:tampered", { registry: storage.location })).rejects.toMatchObject({
      code: "integrity_mismatch",
    });
  });
});
