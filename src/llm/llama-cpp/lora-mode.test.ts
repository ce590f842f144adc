/**
 * --lora-mode: batched when every adapter can be applied per token, else (auto) contexts with one
 * log line saying why, or (batched asked for) a configuration error naming the adapter.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tinyModelPath } from "../../gguf/index.js";
import { writePlainAndActivatedLoras } from "../../testing/tiny-lora.js";
import { createLlamaCppEngine } from "./engine.js";
import {
  batchedLoraObstacle,
  chooseLoraMode,
  describeLoraModeForLog,
  type LoraModeDecision,
  readLoraFileFacts,
  unusedLoraOptionsWarning,
} from "./lora-mode.js";
import { nativeAddonBuilt } from "./native/addon.js";

const plain = { tensors: [{ name: "blk.0.attn_q.weight.lora_a", ggmlType: 0 }], activated: false };

describe("batchedLoraObstacle", () => {
  it("accepts F32 and F16 adapters of matrix-multiplied weights", () => {
    expect(batchedLoraObstacle(plain)).toBeUndefined();
    expect(
      batchedLoraObstacle({ tensors: [{ name: "output.weight.lora_b", ggmlType: 1 }], activated: false }),
    ).toBeUndefined();
  });

  it("names what cannot be applied per token", () => {
    expect(batchedLoraObstacle({ ...plain, activated: true })).toMatch(/activated LoRA/);
    expect(
      batchedLoraObstacle({ tensors: [{ name: "blk.0.attn_q.weight.lora_a", ggmlType: 8 }], activated: false }),
    ).toMatch(/blk\.0\.attn_q\.weight\.lora_a is neither F32 nor F16/);
    expect(
      batchedLoraObstacle({ tensors: [{ name: "token_embd.weight.lora_a", ggmlType: 0 }], activated: false }),
    ).toMatch(/token_embd\.weight, an embedding lookup/);
    expect(
      batchedLoraObstacle({ tensors: [{ name: "blk.1.ffn_up_exps.weight.lora_b", ggmlType: 0 }], activated: false }),
    ).toMatch(/expert weights/);
    expect(batchedLoraObstacle(plain, [{ name: "blk.0.attn_q.scale" }])).toMatch(/scales blk\.0\.attn_q\.weight/);
  });
});

describe("chooseLoraMode", () => {
  const ok = { adapter: { name: "alice" }, obstacle: undefined };
  const blocked = { adapter: { name: "bob" }, obstacle: "it is an activated LoRA (aLoRA)" };

  it("runs batched under auto when every adapter allows it, contexts when asked", () => {
    expect(chooseLoraMode("auto", [ok])).toEqual({ mode: "batched", requested: "auto" });
    expect(chooseLoraMode("batched", [ok])).toEqual({ mode: "batched", requested: "batched" });
    expect(chooseLoraMode("contexts", [ok, blocked])).toEqual({ mode: "contexts", requested: "contexts" });
    expect(describeLoraModeForLog({ mode: "batched", requested: "auto" }, 1)).toMatch(/^LoRA: batched \(/);
    expect(describeLoraModeForLog({ mode: "batched", requested: "auto", ignoredLoraContexts: 3 }, 1)).toMatch(
      /--lora-contexts 3 applies to --lora-mode contexts only$/,
    );
  });

  it("falls back to contexts under auto, saying which adapter and why", () => {
    const decision = chooseLoraMode("auto", [ok, blocked]);
    expect(decision).toMatchObject({ mode: "contexts", reason: expect.stringMatching(/'bob'.*activated LoRA/) });
    expect(describeLoraModeForLog(decision, 2)).toMatch(
      /^LoRA: contexts \(2 llama\.cpp contexts, one adapter set each\), because LoRA adapter 'bob' cannot be applied per token/,
    );
  });

  it("refuses batched with an adapter it cannot apply, pointing at --lora-mode contexts", () => {
    expect(() => chooseLoraMode("batched", [ok, blocked])).toThrow(
      expect.objectContaining({
        code: "configuration_error",
        message: expect.stringMatching(/'bob'.*--lora-mode contexts/),
      }),
    );
  });
});

describe("unusedLoraOptionsWarning", () => {
  it("names the LoRA options a server without adapters ignores, and says how to serve one", () => {
    expect(unusedLoraOptionsWarning({ adapters: 0, loraMode: "batched", loraContexts: 3 })).toBe(
      "--lora-mode batched and --lora-contexts 3 ignored: no LoRA adapter is served (add --lora <name>=<path.gguf>)",
    );
    expect(unusedLoraOptionsWarning({ adapters: 0, loraMode: "auto", loraContexts: 2 })).toMatch(
      /^--lora-contexts 2 ignored/,
    );
  });

  it("says nothing with adapters, or with the defaults", () => {
    expect(unusedLoraOptionsWarning({ adapters: 1, loraMode: "contexts", loraContexts: 3 })).toBeUndefined();
    expect(unusedLoraOptionsWarning({ adapters: 0, loraMode: "auto", loraContexts: undefined })).toBeUndefined();
    expect(unusedLoraOptionsWarning({ adapters: 0, loraMode: undefined, loraContexts: undefined })).toBeUndefined();
  });
});

describe.skipIf(!nativeAddonBuilt())("createLlamaCppEngine --lora-mode", () => {
  let directory: string;
  let plainAdapter: string;
  let activated: string;
  beforeAll(async () => {
    directory = await mkdtemp(path.join(tmpdir(), "llm-twin-lora-mode-"));
    ({ plain: plainAdapter, activated } = await writePlainAndActivatedLoras(directory));
  });
  afterAll(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  it("reads an activated LoRA's invocation tokens from its file", async () => {
    expect((await readLoraFileFacts(activated)).activated).toBe(true);
    expect((await readLoraFileFacts(plainAdapter)).activated).toBe(false);
  });

  const start = async (loraMode: "auto" | "batched", files: string[]) => {
    const decisions: Array<[LoraModeDecision, number]> = [];
    const engine = await createLlamaCppEngine({
      modelPath: await tinyModelPath("chat"),
      threads: 1,
      parallel: 2,
      maxTotalTokens: 128,
      backend: "native",
      loraMode,
      loras: files.map((file, index) => ({ name: `adapter${index}`, path: file, scale: 1 })),
      onLoraMode: (decision, contexts) => decisions.push([decision, contexts]),
    });
    await engine.dispose();
    return decisions;
  };

  it("auto: batched for plain adapters, contexts with the reason for an activated LoRA", async () => {
    expect(await start("auto", [plainAdapter])).toEqual([[{ mode: "batched", requested: "auto" }, 1]]);
    const [[decision, contexts] = []] = await start("auto", [plainAdapter, activated]);
    expect(decision).toMatchObject({ mode: "contexts", reason: expect.stringMatching(/'adapter1'.*activated LoRA/) });
    expect(contexts).toBe(2);
  });

  it("batched: refuses an activated LoRA before loading it", async () => {
    await expect(start("batched", [activated])).rejects.toMatchObject({
      code: "configuration_error",
      message: expect.stringMatching(/--lora-mode batched: LoRA adapter 'adapter0'.*--lora-mode contexts/),
    });
  });
});
