/**
 * `serve-llm --lora-mode`: the start-up log says how the adapters are applied, and why when auto
 * falls back to contexts (an adapter that cannot be applied per token); `--lora-mode batched` with
 * such an adapter fails the load with one line naming the adapter and `--lora-mode contexts`.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tinyModelPath } from "../../src/gguf/index.js";
import { defaultBackend } from "../../src/llm/llama-cpp/index.js";
import {
  type CliProcess,
  killLeftOver,
  spawnServeLlm,
  stop,
  waitForModelReady,
} from "../../src/testing/cli-process.js";
import { testEngineBackend } from "../../src/testing/engine-backend.js";
import { writePlainAndActivatedLoras } from "../../src/testing/tiny-lora.js";
import { waitFor } from "./helpers.js";

const native = (testEngineBackend().backend ?? defaultBackend()) === "native";

describe.skipIf(!native)("serve-llm --lora-mode", () => {
  let directory = "";
  let model = "";
  let plain = "";
  let activated = "";
  const spawned: CliProcess[] = [];
  beforeAll(async () => {
    directory = await mkdtemp(path.join(tmpdir(), "llm-twin-lora-mode-cli-"));
    model = await tinyModelPath("chat");
    ({ plain, activated } = await writePlainAndActivatedLoras(directory));
  });
  afterAll(async () => {
    killLeftOver(spawned);
    await rm(directory, { recursive: true, force: true });
  });

  const serve = (...extra: string[]): CliProcess => {
    const cli = spawnServeLlm({ model, args: extra });
    spawned.push(cli);
    return cli;
  };
  it("logs batched for plain adapters, and contexts with the reason for an activated LoRA", async () => {
    const batched = serve("--lora", `alice=${plain}`);
    await waitForModelReady(batched);
    expect(batched.output()).toMatch(
      /"msg":"LoRA: batched \(each token's adapter applied inside one llama\.cpp decode/,
    );
    await stop(batched, "SIGINT");

    const fallback = serve("--lora", `alice=${plain}`, "--lora", `bob=${activated}`);
    await waitForModelReady(fallback);
    expect(fallback.output()).toMatch(
      /"msg":"LoRA: contexts \(2 llama\.cpp contexts, one adapter set each\), because LoRA adapter 'bob' cannot be applied per token: it is an activated LoRA/,
    );
    await stop(fallback, "SIGINT");
  });

  it("fails the load with --lora-mode batched and an adapter it cannot apply per token", async () => {
    const cli = serve("--lora", `bob=${activated}`, "--lora-mode", "batched");
    await waitFor(async () => /the model could not be loaded/.test(cli.output()), "the load to fail", 120_000);
    expect(cli.output()).toMatch(/--lora-mode batched: LoRA adapter 'bob' cannot be applied per token/);
    expect(cli.output()).toMatch(/--lora-mode contexts/);
    expect(cli.output()).not.toMatch(/\n\s+at /);
    await stop(cli, "SIGINT");
  });
});
