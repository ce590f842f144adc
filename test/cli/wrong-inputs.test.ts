/**
 * The second walk-through's wrong inputs, through the real CLI: each is one line with a stable code
 * and what to do (no stack, no second line), exit code 1.
 */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawnCli } from "../../src/testing/cli-process.js";
import { freePort } from "../../src/testing/free-port.js";
import { projectRoot } from "../../src/testing/shared-datasets.js";

let directory: string;
beforeAll(async () => {
  directory = await mkdtemp(path.join(tmpdir(), "llm-twin-wrong-inputs-"));
});
afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

async function oneLine(args: string[], env: Record<string, string> = {}): Promise<string> {
  const cli = spawnCli(args, env);
  expect(await cli.exited, cli.output()).toBe(1);
  const lines = cli.output().trim().split("\n");
  expect(lines, cli.output()).toHaveLength(1);
  return lines[0] ?? "";
}

describe("wrong inputs", () => {
  it("a corpus that is not JSON: one line even though the parser's excerpt holds a newline", async () => {
    const corpus = path.join(directory, "corpus.json");
    await writeFile(corpus, "not json\nat all\n");
    expect(await oneLine(["eval", "voice", "--corpus", corpus])).toMatch(
      /^llm-twin: cannot read the voice corpus .*corpus\.json: invalid JSON: .* \(check --corpus\) \[bad_request\]$/,
    );
  });

  it("--questions naming a folder says to give a JSON Lines file", async () => {
    const folder = path.join(directory, "questions");
    await mkdir(folder);
    expect(await oneLine(["eval", "generation", "--questions", folder, "--rag-url", "http://127.0.0.1:1"])).toBe(
      `llm-twin: --questions ${folder} is a folder: give a JSON Lines file of {question, …} [bad_request]`,
    );
  });

  it("an openai: embedder that cannot be reached names --embedder and its variable", async () => {
    const port = await freePort();
    const line = await oneLine([
      "ingest",
      path.join(projectRoot, "sample-data"),
      "--store",
      `lancedb:${path.join(directory, "store")}`,
      "--embedder",
      `openai:http://127.0.0.1:${port}`,
      "--embedder-retries",
      "0",
    ]);
    expect(line).toMatch(
      new RegExp(
        `^llm-twin: cannot reach the embedder at http://127\\.0\\.0\\.1:${port}/.*; start it or point --embedder openai:<url> \\(LLM_TWIN_EMBEDDER\\) at it \\[upstream_unavailable\\]$`,
      ),
    );
  });

  it("a Qdrant store nobody listens on: start it or fix the URI", async () => {
    const port = await freePort();
    expect(
      await oneLine(["ingest", path.join(projectRoot, "sample-data"), "--store", `qdrant:http://127.0.0.1:${port}`]),
    ).toBe(
      `llm-twin: cannot reach Qdrant at qdrant:http://127.0.0.1:${port}: start it there, or fix the store URI (--store qdrant:<http(s) url>) [dependency_unavailable]`,
    );
  });
});

/**
 * `--api-keys ""` or `LLM_TWIN_API_KEYS=` (or a list of nothing but commas and spaces) on
 * serve-llm, serve-rag and serve: whoever set it meant to turn authentication on, so the service
 * refuses to start, naming the flag and the variable, instead of serving without auth. Empty
 * entries inside a list (`a,,b`, a trailing comma) are ignored (src/config/settings.ts keyList).
 */
describe("an API key list with no key", () => {
  const refused =
    /^llm-twin: invalid configuration: --api-keys \(LLM_TWIN_API_KEYS\): lists no key: give at least one key, or leave the flag and the variable unset for no authentication \(got "[ ,]*"\) \[configuration_error\]$/;

  it("serve-llm --api-keys ''", async () => {
    expect(await oneLine(["serve-llm", "--model", "missing.gguf", "--api-keys", ""])).toMatch(refused);
  });

  it("serve-llm with LLM_TWIN_API_KEYS holding only commas and spaces", async () => {
    expect(await oneLine(["serve-llm", "--model", "missing.gguf"], { LLM_TWIN_API_KEYS: " , ," })).toMatch(refused);
  });

  it("serve-rag with LLM_TWIN_API_KEYS set but empty", async () => {
    expect(await oneLine(["serve-rag", "--llm-url", "http://127.0.0.1:9"], { LLM_TWIN_API_KEYS: "" })).toMatch(refused);
  });

  it("serve --api-keys ' '", async () => {
    expect(await oneLine(["serve", "--api-keys", " "])).toMatch(refused);
  });
});
