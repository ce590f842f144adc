/**
 * No native (Rust) warning reaches a user's terminal: `llm-twin ingest` (table creation) and
 * `llm-twin eval retrieval` (dense, lexical and hybrid searches on LanceDB, where every query used
 * to print a `lance::dataset::scanner` deprecation warning) run with LANCEDB_LOG unset, and their
 * stderr holds no `WARN` line and nothing from `lance::`.
 */
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const root = resolve(import.meta.dirname, "../..");

function run(args: string[], lanceLog?: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const environment: NodeJS.ProcessEnv = { ...process.env, LLM_TWIN_FROM_SOURCE: "1" };
  delete environment.LANCEDB_LOG;
  delete environment.RUST_LOG;
  if (lanceLog !== undefined) environment.LANCEDB_LOG = lanceLog;
  const child = spawn(process.execPath, [join(root, "bin/llm-twin.js"), ...args], {
    cwd: root,
    env: environment,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (data: Buffer) => (stdout += data.toString()));
  child.stderr.on("data", (data: Buffer) => (stderr += data.toString()));
  return new Promise((resolveRun) => child.once("exit", (code) => resolveRun({ code, stdout, stderr })));
}

function expectNoNativeWarning(stderr: string): void {
  expect(stderr).not.toMatch(/\bWARN\b/);
  expect(stderr).not.toContain("lance::");
  expect(stderr).not.toContain("Deprecation");
}

describe("native warnings", () => {
  const work = mkdtempSync(join(tmpdir(), "llm-twin-native-warnings-"));
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it("ingest creates a store without a native warning", async () => {
    const result = await run([
      "ingest",
      join(root, "sample-data"),
      "--store",
      `lancedb:${join(work, "store")}`,
      "--no-artifacts",
      "--progress",
      "none",
    ]);
    expect(result.code, result.stderr).toBe(0);
    expectNoNativeWarning(result.stderr);
  }, 120_000);

  it("eval retrieval searches in every mode without a native warning", async () => {
    const dataset = join(work, "tiny-beir");
    mkdirSync(join(dataset, "qrels"), { recursive: true });
    const topics = ["vector databases and embeddings", "fine-tuning language models", "chunking documents for search"];
    const corpus = topics.flatMap((topic, position) =>
      [0, 1, 2].map((variant) =>
        JSON.stringify({ _id: `d${position}-${variant}`, title: topic, text: `A note ${variant} about ${topic}.` }),
      ),
    );
    writeFileSync(join(dataset, "corpus.jsonl"), `${corpus.join("\n")}\n`);
    writeFileSync(
      join(dataset, "queries-test.jsonl"),
      `${topics.map((topic, position) => JSON.stringify({ _id: `q${position}`, text: `tell me about ${topic}` })).join("\n")}\n`,
    );
    writeFileSync(
      join(dataset, "qrels", "test.tsv"),
      `query-id\tcorpus-id\tscore\n${topics.map((_, position) => `q${position}\td${position}-0\t1`).join("\n")}\n`,
    );
    const evalArgs = [
      "eval",
      "retrieval",
      "--dataset",
      dataset,
      "--mode",
      "all",
      "--store",
      `lancedb:${join(work, "eval-store")}`,
      "--no-report",
      "--json",
    ];
    const result = await run(evalArgs);
    expect(result.code, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout) as Record<string, unknown>;
    expect(JSON.stringify(report)).toContain("hybrid");
    expectNoNativeWarning(result.stderr);
    // Not only hidden by the log level: with LanceDB's warnings on, the queries themselves give none
    // (their projections name `_distance` and `_score`).
    const verbose = await run(evalArgs, "warn");
    expect(verbose.code, verbose.stderr).toBe(0);
    expect(verbose.stderr).not.toContain("lance::dataset::scanner");
    expect(verbose.stderr).not.toContain("Deprecation");
  }, 180_000);
});
