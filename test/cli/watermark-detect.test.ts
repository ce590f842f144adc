/**
 * `llm-twin watermark-detect` through the real CLI: a watermarked generation of the tiny model is
 * called watermarked, an unwatermarked one is not (the text re-tokenized with the model's
 * vocabulary), `--json` is machine-readable, and each wrong input is one line with a stable code.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tinyModelPath } from "../../src/gguf/index.js";
import { createLlamaCppEngine, type LlamaCppEngine } from "../../src/llm/llama-cpp/index.js";
import { spawnCli } from "../../src/testing/cli-process.js";

let directory: string;
let model: string;
beforeAll(async () => {
  directory = await mkdtemp(path.join(tmpdir(), "llm-twin-watermark-detect-"));
  model = await tinyModelPath("chat");
});
afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

async function run(args: string[]): Promise<{ code: number | null; output: string }> {
  const cli = spawnCli(["watermark-detect", ...args]);
  const code = await cli.exited;
  return { code, output: cli.output().trim() };
}

async function generateText(engine: LlamaCppEngine, watermark: boolean): Promise<string> {
  let text = "";
  const parameters = { maxNewTokens: 300, ignoreEos: true, temperature: 1, seed: 21, watermark };
  for await (const event of engine.run({ input: { prompt: "The twin writes" }, parameters })) {
    if (event.type === "token") text += event.text;
  }
  return text;
}

describe("watermark-detect", () => {
  it("calls a watermarked generation watermarked and an unwatermarked one not", async () => {
    const engine = await createLlamaCppEngine({ modelPath: model, threads: 1, parallel: 1, backend: "native" });
    let marked: string;
    let plain: string;
    try {
      marked = await generateText(engine, true);
      plain = await generateText(engine, false);
    } finally {
      await engine.dispose();
    }
    const file = path.join(directory, "marked.txt");
    await writeFile(file, marked);
    const detected = await run(["--model", model, "--file", file, "--json"]);
    expect(detected.code, detected.output).toBe(0);
    const result = JSON.parse(detected.output) as { tokens: number; z: number; watermarked: boolean; gamma: number };
    expect(result).toMatchObject({ watermarked: true, gamma: 0.5 });
    expect(result.tokens).toBeGreaterThan(100);

    const text = await run(["--model", model, "--text", plain]);
    expect(text.code, text.output).toBe(0);
    expect(text.output).toMatch(
      /^tokens scored +\d+\ngreen +\d+ \([\d.]+%, chance 50\.0%\)\nz-score +-?[\d.]+\nverdict +not watermarked \(z < 4\)$/,
    );
  });

  it("gives each wrong input one line with a code", async () => {
    const cases: Array<[string[], RegExp]> = [
      [
        ["--model", path.join(directory, "missing.gguf"), "--text", "Hello"],
        /No model file at .*missing\.gguf: give the GGUF .* --model \[model_not_found\]$/,
      ],
      [["--model", model, "--text", "   "], /no text to check: give --text <string> or --file <path> \[bad_request\]$/],
      [["--model", model, "--text", "a", "--file", "b"], /give either --text or --file, not both \[bad_request\]$/],
      [
        ["--model", model, "--text", "Hello", "--gamma", "1"],
        /--gamma \(LLM_TWIN_WATERMARK_DETECT_GAMMA\): must be < 1/,
      ],
    ];
    for (const [args, expected] of cases) {
      const { code, output } = await run(args);
      expect(code, output).toBe(1);
      expect(output.split("\n"), output).toHaveLength(1);
      expect(output, args.join(" ")).toMatch(expected);
    }
  });
});
