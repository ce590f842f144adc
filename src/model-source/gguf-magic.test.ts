/** assertGgufFile: each way a path is not a model file is one AppError naming it, never an fs stack. */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { assertGgufFile } from "./gguf-magic.js";

let directory: string;
beforeAll(async () => {
  directory = await mkdtemp(path.join(tmpdir(), "llm-twin-gguf-magic-"));
});
afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

describe("assertGgufFile", () => {
  it("a directory is a configuration_error naming it", async () => {
    await expect(assertGgufFile(directory)).rejects.toMatchObject({
      code: "configuration_error",
      message: `Model path is a directory, not a GGUF file: ${directory}`,
    });
  });

  it("a missing file is model_not_found, a text file configuration_error", async () => {
    await expect(assertGgufFile(path.join(directory, "missing.gguf"))).rejects.toMatchObject({
      code: "model_not_found",
    });
    const text = path.join(directory, "notes.gguf");
    await writeFile(text, "hello");
    await expect(assertGgufFile(text)).rejects.toMatchObject({
      code: "configuration_error",
      message: expect.stringContaining("is not a GGUF model file"),
    });
  });
});
