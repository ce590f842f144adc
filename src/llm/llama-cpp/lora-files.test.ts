/**
 * --lora files are checked before llama.cpp loads them, so each mistake says what it is (a missing
 * file, a file that is not GGUF, a model given as an adapter, an adapter of another architecture)
 * instead of llama.cpp's one "not a LoRA adapter for this base model".
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TINY_MODEL_PRESETS, tinyModelPath } from "../../gguf/index.js";
import { writeTinyLora } from "../../testing/tiny-lora.js";
import { createLlamaCppEngine } from "./engine.js";
import { checkLoraFiles } from "./lora-files.js";
import { nativeAddonBuilt } from "./native/addon.js";

let directory: string;
let adapter: string;
let qwenAdapter: string;
let wideAdapter: string;

beforeAll(async () => {
  directory = await mkdtemp(path.join(tmpdir(), "llm-twin-lora-files-"));
  adapter = await writeTinyLora(directory, "alice.gguf", { seed: 5 });
  qwenAdapter = await writeTinyLora(directory, "qwen.gguf", { base: TINY_MODEL_PRESETS.reranker, seed: 6 });
  const wide = { ...TINY_MODEL_PRESETS.chat, embeddingLength: 128 };
  wideAdapter = await writeTinyLora(directory, "wide.gguf", { base: wide, seed: 7 });
});
afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

describe("checkLoraFiles", () => {
  it("accepts an adapter made for the base model's architecture", async () => {
    await expect(checkLoraFiles([{ name: "alice", path: adapter, scale: 1 }], "llama")).resolves.toBeUndefined();
  });

  it("names a missing file", async () => {
    const missing = path.join(directory, "missing.gguf");
    await expect(checkLoraFiles([{ name: "bob", path: missing, scale: 1 }], "llama")).rejects.toMatchObject({
      code: "model_not_found",
      message: expect.stringMatching(/LoRA adapter 'bob': file not found: .*missing\.gguf/),
    });
  });

  it("names a file that is not GGUF", async () => {
    const text = path.join(directory, "notes.gguf");
    await writeFile(text, "not a model");
    await expect(checkLoraFiles([{ name: "bob", path: text, scale: 1 }], "llama")).rejects.toMatchObject({
      code: "configuration_error",
      message: expect.stringMatching(/LoRA adapter 'bob': .*notes\.gguf is not a GGUF model file/),
    });
  });

  it("refuses a model given as an adapter", async () => {
    const model = await tinyModelPath("chat");
    await expect(checkLoraFiles([{ name: "bob", path: model, scale: 1 }], "llama")).rejects.toMatchObject({
      code: "configuration_error",
      message: expect.stringMatching(/LoRA adapter 'bob': .* is a model, not a LoRA adapter/),
    });
  });

  it("refuses an adapter of another architecture as adapter_base_mismatch", async () => {
    await expect(checkLoraFiles([{ name: "bob", path: qwenAdapter, scale: 1 }], "llama")).rejects.toMatchObject({
      code: "adapter_base_mismatch",
      message: expect.stringMatching(/LoRA adapter 'bob': .*qwen\.gguf is for the qwen3 architecture, not llama/),
    });
  });
});

describe("checkLoraFiles with the base model's tensors", () => {
  it("refuses an adapter whose weight shapes do not fit the base, naming the tensor", async () => {
    const { readGgufFileInfo } = await import("node-llama-cpp");
    const base = await readGgufFileInfo(await tinyModelPath("chat"), { logWarnings: false });
    const tensors = base.tensorInfo ?? [];
    await expect(
      checkLoraFiles([{ name: "alice", path: adapter, scale: 1 }], "llama", tensors),
    ).resolves.toBeUndefined();
    await expect(
      checkLoraFiles([{ name: "wide", path: wideAdapter, scale: 1 }], "llama", tensors),
    ).rejects.toMatchObject({
      code: "adapter_base_mismatch",
      message: expect.stringMatching(
        /LoRA adapter 'wide': .*wide\.gguf does not fit the served model: blk\.0\.attn_q\.weight\.lora_a is \[128, 2\], the model's blk\.0\.attn_q\.weight is \[64, 64\]/,
      ),
    });
  });
});

describe("createLlamaCppEngine given an adapter as its model", () => {
  it("says it is a LoRA adapter and where it goes (--lora)", async () => {
    await expect(createLlamaCppEngine({ modelPath: adapter, threads: 1, parallel: 1 })).rejects.toMatchObject({
      code: "configuration_error",
      message: expect.stringMatching(/alice\.gguf is a LoRA adapter, not a model: .*--lora <name>=/),
    });
  });
});

describe.runIf(nativeAddonBuilt())("createLlamaCppEngine with --lora", () => {
  it("checks the files before llama.cpp loads them: a missing adapter is named, not 'not for this base'", async () => {
    const missing = path.join(directory, "gone.gguf");
    await expect(
      createLlamaCppEngine({
        modelPath: await tinyModelPath("chat"),
        threads: 1,
        parallel: 1,
        backend: "native",
        loras: [{ name: "gone", path: missing, scale: 1 }],
      }),
    ).rejects.toMatchObject({
      code: "model_not_found",
      message: expect.stringContaining("LoRA adapter 'gone': file not found"),
    });
  });
});
