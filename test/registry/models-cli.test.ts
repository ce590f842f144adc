/** `llm-twin models ...` end to end through the CLI's own entry point, on a real registry folder. */
import { copyFile, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateLora, TINY_MODEL_PRESETS, tinyModelPath } from "../../src/gguf/index.js";
import { runCli as run } from "../datasets/run-cli.js";

describe("llm-twin models", () => {
  let scratch: string;
  let registry: string;
  let artifacts: string;

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), "llm-twin-models-cli-"));
    registry = join(scratch, "registry");
    artifacts = join(scratch, "artifacts");
    // Real GGUF files: register checks that the file is what --kind says.
    await copyFile(await tinyModelPath("chat"), join(scratch, "qwen.gguf"));
    await generateLora(join(scratch, "paul-lora.gguf"), { base: TINY_MODEL_PRESETS.chat, rank: 2, alpha: 2, seed: 3 });
    await writeFile(join(scratch, "notes.gguf"), "not a model");
    // A document artifact and an instruct dataset artifact made from it (the manifests lineage reads).
    await mkdir(join(artifacts, "d0c0000000000001"), { recursive: true });
    await writeFile(
      join(artifacts, "d0c0000000000001", "manifest.json"),
      JSON.stringify({
        version: "d0c0000000000001",
        documents: { count: 2 },
        sources: [{ file: "/data/articles.json", sha256: "a".repeat(64), bytes: 1234 }],
      }),
    );
    await mkdir(join(artifacts, "da7a000000000001"), { recursive: true });
    await writeFile(
      join(artifacts, "da7a000000000001", "manifest.json"),
      JSON.stringify({
        version: "da7a000000000001",
        kind: "instruct",
        generator: { model: "writer-model" },
        lineage: { documents: "d0c0000000000001", traces: null },
      }),
    );
  });
  afterAll(async () => {
    await rm(scratch, { recursive: true, force: true });
  });

  it("registers, lists, promotes, shows lineage and removes, as the issue writes them", async () => {
    const base = await run(
      "models",
      "register",
      join(scratch, "qwen.gguf"),
      "--name",
      "qwen-0.5b",
      "--kind",
      "base",
      "--registry",
      registry,
    );
    expect(base.stdout).toMatch(/^registered qwen-0\.5b@1 in /);
    const adapter = await run(
      "models",
      "register",
      join(scratch, "paul-lora.gguf"),
      "--name",
      "twin-paul",
      "--kind",
      "adapter",
      "--base",
      "qwen-0.5b@1",
      "--author",
      "paul-iusztin",
      "--trained-on",
      "da7a000000000001",
      "--meta",
      "lora_rank=16",
      "--meta",
      "note=first try",
      "--meta-json",
      '{"eval":{"judge":4.1}}',
      "--registry",
      registry,
      "--json",
    );
    expect(JSON.parse(adapter.stdout)).toMatchObject({
      name: "twin-paul",
      version: 1,
      kind: "adapter",
      base: "qwen-0.5b@1",
      author: "paul-iusztin",
      trainedOn: "da7a000000000001",
      metadata: { lora_rank: 16, note: "first try", eval: { judge: 4.1 } },
    });
    await run(
      "models",
      "register",
      join(scratch, "paul-lora.gguf"),
      "--name",
      "twin-paul",
      "--kind",
      "adapter",
      "--base",
      "qwen-0.5b@1",
      "--registry",
      registry,
    );
    expect(
      (await run("models", "promote", "twin-paul@2", "--stage", "production", "--registry", registry)).stdout,
    ).toBe("twin-paul@2 is now production\n");
    const list = await run("models", "list", "--registry", registry);
    expect(list.stdout).toMatch(/twin-paul@2\s+adapter\s+qwen-0\.5b@1\s+-\s+production/);

    const shown = await run("models", "show", "twin-paul@1", "--registry", registry, "--artifacts", artifacts);
    expect(shown.stdout).toContain("└ dataset   da7a000000000001 (instruct, written by writer-model)");
    expect(shown.stdout).toContain("└ documents d0c0000000000001 (2 documents)");
    expect(shown.stdout).toContain("└ source /data/articles.json  1234 bytes");
    const json = JSON.parse(
      (await run("models", "show", "twin-paul@production", "--registry", registry, "--json")).stdout,
    );
    expect(json).toMatchObject({ version: 2, stages: ["production"] });

    const refused = await run("models", "remove", "qwen-0.5b@1", "--registry", registry);
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toMatch(
      /is the base of twin-paul@1, twin-paul@2; remove those first or pass --force \[bad_request\]\n$/,
    );
    expect((await run("models", "remove", "twin-paul@1", "--registry", registry)).stdout).toBe("removed twin-paul@1\n");
  });

  it("answers mistakes with one line and a code", async () => {
    const missing = await run(
      "models",
      "register",
      join(scratch, "nope.gguf"),
      "--name",
      "x",
      "--kind",
      "base",
      "--registry",
      registry,
    );
    expect(missing.stderr).toMatch(/nope\.gguf is not a file .*\[not_found\]\n$/);
    const noBase = await run(
      "models",
      "register",
      join(scratch, "paul-lora.gguf"),
      "--name",
      "x",
      "--kind",
      "adapter",
      "--registry",
      registry,
    );
    expect(noBase.stderr).toMatch(/--kind adapter needs --base .*\[bad_request\]\n$/);
    const unknown = await run("models", "show", "ghost@production", "--registry", registry);
    expect(unknown.stderr).toMatch(/no model "ghost" is registered .*\[model_not_found\]\n$/);
    expect(unknown.stderr).toMatch(/^llm-twin: ghost has no production version in the registry /);
    const url = await run("models", "list", "--registry", "https://example.com/registry");
    expect(url.stderr).toMatch(/a folder or s3:\/\/bucket\/prefix is expected \[bad_request\]\n$/);
    const badMeta = await run(
      "models",
      "register",
      join(scratch, "qwen.gguf"),
      "--name",
      "x",
      "--kind",
      "base",
      "--meta",
      "novalue",
      "--registry",
      registry,
    );
    expect(badMeta.stderr).toMatch(/--meta novalue: expected key=value \[bad_request\]\n$/);
    const notGguf = await run(
      "models",
      "register",
      join(scratch, "notes.gguf"),
      "--name",
      "x",
      "--kind",
      "base",
      "--registry",
      registry,
    );
    expect(notGguf.stderr).toMatch(
      /notes\.gguf is not a GGUF model file .*register a \.gguf model or LoRA adapter \[configuration_error\]\n$/,
    );
    const adapterAsBase = await run(
      "models",
      "register",
      join(scratch, "paul-lora.gguf"),
      "--name",
      "x",
      "--kind",
      "base",
      "--registry",
      registry,
    );
    expect(adapterAsBase.stderr).toMatch(
      /paul-lora\.gguf is a LoRA adapter .*--kind adapter --base .*\[configuration_error\]\n$/,
    );
    const modelAsAdapter = await run(
      "models",
      "register",
      join(scratch, "qwen.gguf"),
      "--name",
      "x",
      "--kind",
      "adapter",
      "--base",
      "qwen-0.5b@1",
      "--registry",
      registry,
    );
    expect(modelAsAdapter.stderr).toMatch(
      /qwen\.gguf is a model, not a LoRA adapter.*--kind base \[configuration_error\]\n$/,
    );
    const list = await run("models", "list", "--registry", registry, "--json");
    expect(JSON.stringify(JSON.parse(list.stdout))).not.toContain('"name":"x"');
    for (const result of [missing, noBase, unknown, url, badMeta, notGguf, adapterAsBase, modelAsAdapter])
      expect(result.stderr).not.toMatch(/\n\s+at /);
  });
});
