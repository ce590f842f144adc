/**
 * Ending the process while the native loop decodes (issue 13, item 24): process.exit() and uncaught
 * exceptions skip the environment's cleanup hooks, so the addon stops live loops from process's
 * "exit" event (addon.ts) and, failing that, from a native atexit handler. Real child processes, many rounds: a crash shows up as a signal or exit code 139.
 * LLM_TWIN_EXIT_TEST_ROUNDS sets the rounds per mode (default 3: each child loads llama.cpp, ~1–4 s;
 * before the fix 3 of 25 such exits crashed, after it 0 of 48).
 */
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Llama } from "node-llama-cpp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateLora, TINY_MODEL_PRESETS, tinyModelPath } from "../../../gguf/index.js";
import { loadTestLlama } from "../../../testing/native-loop.js";
import { loadedLibllamaPath, nativeAddonBuilt, nativeAddonPath } from "./addon.js";

const ROUNDS = Number(process.env.LLM_TWIN_EXIT_TEST_ROUNDS ?? 3);
const CHILD = path.join(path.dirname(fileURLToPath(import.meta.url)), "fixtures/exit-while-decoding.mjs");

type Exit = { code: number | null; signal: NodeJS.Signals | null; stderr: string };

function runChild(args: string[], env: Record<string, string> = {}): Promise<Exit> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD, ...args], {
      stdio: ["ignore", "ignore", "pipe"],
      env: { ...process.env, ...env },
    });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on("error", reject);
    child.on("close", (code, signal) => resolve({ code, signal, stderr }));
  });
}

describe.skipIf(!nativeAddonBuilt())("exiting while the native loop decodes", () => {
  let llama: Llama;
  let args: string[];
  beforeAll(async () => {
    llama = await loadTestLlama();
    args = [nativeAddonPath(), loadedLibllamaPath(), await tinyModelPath("chat")];
  });
  afterAll(async () => {
    await llama?.dispose();
  });

  it("process.exit() during decoding exits with its code, every time", async () => {
    for (let round = 0; round < ROUNDS; round += 1) {
      expect(await runChild([...args, "exit"])).toMatchObject({ code: 0, signal: null });
    }
  });

  it("an uncaught exception during decoding exits with 1 and its message, every time", async () => {
    for (let round = 0; round < ROUNDS; round += 1) {
      const exit = await runChild([...args, "throw"]);
      expect(exit).toMatchObject({ code: 1, signal: null });
      expect(exit.stderr).toContain("uncaught while decoding");
    }
  });

  it("without the exit listener, the native atexit handler alone stops the loops", async () => {
    for (let round = 0; round < ROUNDS; round += 1) {
      const exit = await runChild([...args, "exit"], { LLM_TWIN_EXIT_FIXTURE_ATEXIT_ONLY: "1" });
      expect(exit).toMatchObject({ code: 0, signal: null });
    }
  });

  it("process.exit() while batched LoRA decodes (its own ggml threadpool) exits with its code", async () => {
    const directory = await mkdtemp(path.join(tmpdir(), "llm-twin-exit-lora-"));
    try {
      const adapter = path.join(directory, "style.gguf");
      await generateLora(adapter, { base: TINY_MODEL_PRESETS.chat, rank: 4, alpha: 4, seed: 7 });
      for (let round = 0; round < ROUNDS; round += 1) {
        const exit = await runChild([...args, "exit"], { LLM_TWIN_EXIT_FIXTURE_LORA: adapter });
        expect(exit).toMatchObject({ code: 0, signal: null });
      }
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });

  it("process.exit() while the model loads exits cleanly", async () => {
    for (let round = 0; round < ROUNDS; round += 1) {
      expect(await runChild([...args, "exit-loading"])).toMatchObject({ code: 0, signal: null });
    }
  });
});
