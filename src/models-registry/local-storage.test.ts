import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createLocalRegistryStorage } from "./local-storage.js";
import { registryStorageContract } from "./registry-contract.js";

registryStorageContract("local folder", async (scratch) => createLocalRegistryStorage(join(scratch, "registry")));

describe("local registry storage", () => {
  it("leaves no temporary or lock file behind after writes", async () => {
    const { mkdtemp, rm } = await import("node:fs/promises");
    const { tmpdir } = await import("node:os");
    const directory = await mkdtemp(join(tmpdir(), "llm-twin-registry-"));
    const storage = createLocalRegistryStorage(directory);
    await Promise.all(
      [1, 2, 3].map((value) => storage.update("registry.json", (current) => `${current ?? ""}${value}`)),
    );
    expect((await storage.readText("registry.json"))?.split("").sort()).toEqual(["1", "2", "3"]);
    expect(await readdir(directory)).toEqual(["registry.json"]);
    await expect(storage.localPath("../escape")).rejects.toMatchObject({ code: "bad_request" });
    await rm(directory, { recursive: true, force: true });
  });
});
