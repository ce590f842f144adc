/**
 * The behaviour every RegistryStorage adapter must give the registry, run by
 * local-storage.test.ts (a real folder) and s3-storage.test.ts (a mocked S3 client).
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { sha256Hex } from "../preprocessing/index.js";
import { resolveRegistryReference } from "./open.js";
import {
  listModels,
  loadModelFile,
  promoteModel,
  readRegistryIndex,
  registerModel,
  removeModel,
  showModel,
} from "./registry.js";
import type { RegistryStorage } from "./storage.js";

export type StorageFactory = (scratch: string) => Promise<RegistryStorage>;

export function registryStorageContract(adapter: string, makeStorage: StorageFactory): void {
  describe(`model registry contract: ${adapter}`, () => {
    let scratch: string;
    let storage: RegistryStorage;
    let baseFile: string;
    let adapterFile: string;

    beforeEach(async () => {
      scratch = await mkdtemp(join(tmpdir(), "llm-twin-registry-"));
      storage = await makeStorage(scratch);
      baseFile = join(scratch, "qwen.gguf");
      adapterFile = join(scratch, "paul-lora.gguf");
      await writeFile(baseFile, "GGUF base weights");
      await writeFile(adapterFile, "GGUF lora weights");
    });
    afterEach(async () => {
      await rm(scratch, { recursive: true, force: true });
    });

    it("registers a copied file with its sha256 and size, and loads the same bytes back", async () => {
      const entry = await registerModel(storage, {
        file: baseFile,
        name: "qwen-0.5b",
        kind: "base",
        metadata: { q: "f16" },
      });
      expect(entry).toMatchObject({ name: "qwen-0.5b", version: 1, kind: "base", base: null, stages: [] });
      expect(entry.sha256).toBe(sha256Hex("GGUF base weights"));
      expect(entry.size).toBe("GGUF base weights".length);
      await rm(baseFile); // copied: the registry no longer needs the original
      const path = await loadModelFile(storage, await showModel(storage, "qwen-0.5b@1"));
      expect(await readFile(path, "utf8")).toBe("GGUF base weights");
      expect((await listModels(storage)).map((model) => model.metadata)).toEqual([{ q: "f16" }]);
    });

    it("numbers versions per name, monotonically even after a removal", async () => {
      await registerModel(storage, { file: baseFile, name: "qwen-0.5b", kind: "base" });
      await registerModel(storage, { file: baseFile, name: "qwen-0.5b", kind: "base" });
      await registerModel(storage, { file: baseFile, name: "other", kind: "base" });
      await removeModel(storage, "qwen-0.5b@2");
      const third = await registerModel(storage, { file: baseFile, name: "qwen-0.5b", kind: "base" });
      expect(third.version).toBe(3);
      expect((await listModels(storage)).map((model) => `${model.name}@${model.version}`)).toEqual([
        "other@1",
        "qwen-0.5b@1",
        "qwen-0.5b@3",
      ]);
    });

    it("gives concurrent registrations distinct versions", async () => {
      const entries = await Promise.all(
        Array.from({ length: 4 }, () => registerModel(storage, { file: baseFile, name: "qwen-0.5b", kind: "base" })),
      );
      expect(entries.map((entry) => entry.version).sort()).toEqual([1, 2, 3, 4]);
      expect((await readRegistryIndex(storage)).entries).toHaveLength(4);
    });

    it("records an adapter against a registered base, resolving a stage to its version", async () => {
      await registerModel(storage, { file: baseFile, name: "qwen-0.5b", kind: "base" });
      await promoteModel(storage, "qwen-0.5b@1", "production");
      const lora = await registerModel(storage, {
        file: adapterFile,
        name: "twin-paul",
        kind: "adapter",
        base: "qwen-0.5b@production",
        author: "paul-iusztin",
        trainedOn: "0123456789abcdef",
      });
      expect(lora).toMatchObject({
        kind: "adapter",
        base: "qwen-0.5b@1",
        author: "paul-iusztin",
        trainedOn: "0123456789abcdef",
      });
      await expect(
        registerModel(storage, { file: adapterFile, name: "twin-x", kind: "adapter" }),
      ).rejects.toMatchObject({
        code: "bad_request",
      });
      await expect(
        registerModel(storage, { file: adapterFile, name: "twin-x", kind: "adapter", base: "twin-paul@1" }),
      ).rejects.toMatchObject({ code: "bad_request" });
      await expect(
        registerModel(storage, { file: adapterFile, name: "twin-x", kind: "adapter", base: "missing@1" }),
      ).rejects.toMatchObject({ code: "model_not_found" });
      await expect(removeModel(storage, "qwen-0.5b@1")).rejects.toMatchObject({ code: "bad_request" });
      await removeModel(storage, "qwen-0.5b@1", { force: true });
    });

    it("moves a stage from one version to another and resolves registry: references", async () => {
      await registerModel(storage, { file: baseFile, name: "twin", kind: "base" });
      await writeFile(baseFile, "GGUF base weights v2");
      await registerModel(storage, { file: baseFile, name: "twin", kind: "base" });
      await promoteModel(storage, "twin@1", "production");
      await promoteModel(storage, "twin@1", "staging");
      await promoteModel(storage, "twin@2", "production");
      expect((await listModels(storage)).map((model) => model.stages)).toEqual([["staging"], ["production"]]);
      const production = await resolveRegistryReference("registry:twin@production", { registry: storage });
      expect(production.entry.version).toBe(2);
      expect(await readFile(production.path, "utf8")).toBe("GGUF base weights v2");
      expect((await resolveRegistryReference("registry:twin@staging", { registry: storage })).entry.version).toBe(1);
      expect((await resolveRegistryReference("registry:twin", { registry: storage })).entry.version).toBe(2);
      await expect(resolveRegistryReference("registry:twin@9", { registry: storage })).rejects.toMatchObject({
        code: "model_not_found",
      });
      await expect(resolveRegistryReference("registry:twin@prod", { registry: storage })).rejects.toMatchObject({
        code: "bad_request",
      });
    });

    it("refuses a stored file that changed since registration", async () => {
      const entry = await registerModel(storage, { file: baseFile, name: "twin", kind: "base" });
      const path = await loadModelFile(storage, entry);
      await writeFile(path, "GGUF base weightz"); // same size, other bytes
      await expect(resolveRegistryReference("registry:twin@1", { registry: storage })).rejects.toMatchObject({
        code: "integrity_mismatch",
      });
    });

    it("references a linked file in place and refuses it once changed", async () => {
      const entry = await registerModel(storage, { file: adapterFile, name: "linked", kind: "base", link: true });
      expect(entry.file).toEqual({ storage: "linked", path: adapterFile, fileName: "paul-lora.gguf" });
      expect(await loadModelFile(storage, entry)).toBe(adapterFile);
      await writeFile(adapterFile, "truncated");
      await expect(loadModelFile(storage, entry)).rejects.toMatchObject({ code: "integrity_mismatch" });
      await rm(adapterFile);
      await expect(loadModelFile(storage, entry)).rejects.toMatchObject({ code: "not_found" });
    });

    it("leaves the index as it was when an update fails half-way", async () => {
      await registerModel(storage, { file: baseFile, name: "twin", kind: "base" });
      const before = await storage.readText("registry.json");
      await expect(
        storage.update("registry.json", () => {
          throw new Error("crash while computing the next index");
        }),
      ).rejects.toThrow("crash");
      expect(await storage.readText("registry.json")).toBe(before);
      expect((await listModels(storage)).length).toBe(1);
    });
  });
}
