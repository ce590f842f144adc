/**
 * `llm-twin ingest` mistakes a new user makes, run as a process (LANCEDB_LOG unset, so a native
 * warning would show): a missing input path, a store path that is a file, an input that is not
 * JSON, has the wrong shape or holds no records. Each fails with one line and a stable code and
 * creates nothing (no store folder, no artifact, `LATEST` unchanged); an input with some bad
 * records still ingests the rest and reports them.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const root = resolve(import.meta.dirname, "../..");
const TEST_TIMEOUT_MS = 120_000;

function runIngest(args: string[], cwd: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const environment: NodeJS.ProcessEnv = { ...process.env, LLM_TWIN_FROM_SOURCE: "1" };
  delete environment.LANCEDB_LOG;
  const child = spawn(process.execPath, [join(root, "bin/llm-twin.js"), "ingest", ...args, "--progress", "none"], {
    cwd,
    env: environment,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (data: Buffer) => (stdout += data.toString()));
  child.stderr.on("data", (data: Buffer) => (stderr += data.toString()));
  return new Promise((resolveRun) => child.once("exit", (code) => resolveRun({ code, stdout, stderr })));
}

function expectOneErrorLine(stderr: string, code: string): string {
  const lines = stderr.trim().split("\n");
  expect(lines, stderr).toHaveLength(1);
  expect(lines[0]).toMatch(new RegExp(`^llm-twin: .*\\[${code}\\]$`));
  return lines[0] as string;
}

describe("llm-twin ingest: first-run mistakes", () => {
  const work = mkdtempSync(join(tmpdir(), "llm-twin-first-run-"));
  const posts = readFileSync(join(root, "sample-data", "posts.jsonl"), "utf8");
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it(
    "a missing input path creates no store folder and no artifact",
    async () => {
      const { code, stderr } = await runIngest(["missing.json", "--store", "lancedb:./store"], work);
      expect(code).toBe(1);
      expect(expectOneErrorLine(stderr, "not_found")).toContain("input path not found: missing.json");
      expect(existsSync(join(work, "store"))).toBe(false);
      expect(existsSync(join(work, ".llm-twin"))).toBe(false);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    "a store path that is a file (or inside one) is named as such, without a native warning",
    async () => {
      writeFileSync(join(work, "a-file"), "not a store\n");
      writeFileSync(join(work, "posts.jsonl"), posts);
      for (const store of ["lancedb:./a-file", "lancedb:./a-file/store"]) {
        const { code, stderr } = await runIngest(["posts.jsonl", "--store", store, "--no-artifacts"], work);
        expect(code).toBe(1);
        const line = expectOneErrorLine(stderr, "configuration_error");
        expect(line).toContain("is a file, expected a folder");
        expect(line).toContain("--store");
      }
      expect(readFileSync(join(work, "a-file"), "utf8")).toBe("not a store\n");
    },
    TEST_TIMEOUT_MS,
  );

  it(
    "an input that is not JSON, has the wrong shape or holds no records exits non-zero and writes nothing",
    async () => {
      const artifacts = join(work, "artifacts");
      // A first good run: its artifact is LATEST and must stay so.
      const good = await runIngest(["posts.jsonl", "--store", "lancedb:./good", "--artifacts", artifacts], work);
      expect(good.code, good.stderr).toBe(0);
      const latest = readFileSync(join(artifacts, "LATEST"), "utf8");

      writeFileSync(join(work, "not-json.json"), "this is not JSON\n");
      writeFileSync(join(work, "wrong-shape.json"), JSON.stringify([{ title: "no content, no id" }, 42]));
      writeFileSync(join(work, "empty.json"), "[]\n");
      const cases = [
        { file: "not-json.json", code: "invalid_document", says: "invalid JSON" },
        { file: "wrong-shape.json", code: "invalid_document", says: "2 record(s) skipped" },
        { file: "empty.json", code: "bad_request", says: "holds no records" },
      ];
      for (const [position, { file, code, says }] of cases.entries()) {
        const store = `bad-store-${position}`;
        const run = await runIngest([file, "--store", `lancedb:./${store}`, "--artifacts", artifacts, "--json"], work);
        expect(run.code, run.stderr).toBe(1);
        expect(expectOneErrorLine(run.stderr, code)).toContain(says);
        const printed = JSON.parse(run.stdout.trim()) as { error: { code: string; message: string } };
        expect(printed.error.code).toBe(code);
        expect(existsSync(join(work, store))).toBe(false);
      }
      expect(readFileSync(join(artifacts, "LATEST"), "utf8")).toBe(latest);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    "an input with some bad records ingests the others and reports the bad ones",
    async () => {
      writeFileSync(join(work, "mixed.jsonl"), `${posts.trimEnd()}\nnot a record\n`);
      const run = await runIngest(["mixed.jsonl", "--store", "lancedb:./mixed", "--no-artifacts", "--json"], work);
      expect(run.code, run.stderr).toBe(0);
      const summary = JSON.parse(run.stdout.trim()) as { documentsRead: number; documentsSkipped: unknown[] };
      expect(summary.documentsRead).toBe(posts.trim().split("\n").length);
      expect(summary.documentsSkipped).toHaveLength(1);
    },
    TEST_TIMEOUT_MS,
  );
});
