/**
 * Crash recovery end to end: `llm-twin ingest` is SIGKILLed mid-run (at several points), rerun,
 * and the store must then hold exactly what an uninterrupted run writes — same ids, texts and
 * vectors, no duplicate, nothing missing.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createEmbedder } from "../../src/embedding/index.js";
import { ingest } from "../../src/ingestion/index.js";
import { projectRoot, requireSharedDataset } from "../../src/testing/shared-datasets.js";
import { openVectorStore } from "../../src/vector-store/index.js";
import { type StoredRow, snapshotLanceDb, temporaryDirectory } from "./helpers.js";

const articlesPath = requireSharedDataset("llm-twin", "articles.json");

function startIngest(storeDirectory: string, extra: string[] = []): ChildProcess {
  return spawn(
    process.execPath,
    [
      join(projectRoot, "bin", "llm-twin.js"),
      "ingest",
      articlesPath as string,
      "--store",
      `lancedb:${storeDirectory}`,
      "--no-artifacts",
      "--batch-size",
      "16",
      "--progress",
      "plain",
      "--progress-interval",
      "10",
      ...extra,
    ],
    {
      cwd: projectRoot,
      env: { ...process.env, LLM_TWIN_FROM_SOURCE: "1", LANCEDB_LOG: "error" },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
}

/** Runs ingest and SIGKILLs it once its progress shows at least `threshold` chunks written. */
async function killAfterWritten(
  storeDirectory: string,
  threshold: number,
): Promise<{ writtenWhenKilled: number; signal: string | null }> {
  const child = startIngest(storeDirectory);
  let written = -1;
  let buffered = "";
  child.stderr?.on("data", (data: Buffer) => {
    buffered += data.toString();
    const lines = buffered.split("\n");
    buffered = lines.pop() ?? "";
    for (const line of lines) {
      const match = / ([\d,]+) written/.exec(line);
      if (match === null) continue;
      written = Number((match[1] as string).replaceAll(",", ""));
      if (written >= threshold && child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    }
  });
  const [, signal] = (await new Promise((resolve) =>
    child.on("exit", (code, exitSignal) => resolve([code, exitSignal])),
  )) as [number | null, string | null];
  return { writtenWhenKilled: written, signal };
}

async function runToCompletion(storeDirectory: string): Promise<Record<string, unknown>> {
  const child = startIngest(storeDirectory, ["--json", "--progress", "none"]);
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (data: Buffer) => {
    stdout += data.toString();
  });
  child.stderr?.on("data", (data: Buffer) => {
    stderr += data.toString();
  });
  const code = await new Promise((resolve) => child.on("exit", resolve));
  expect(code, stderr).toBe(0);
  return JSON.parse(stdout) as Record<string, unknown>;
}

async function rerunInProcess(storeDirectory: string): Promise<Record<string, unknown>> {
  const embedder = await createEmbedder("static");
  const store = await openVectorStore(`lancedb:${storeDirectory}`);
  try {
    return await ingest({ source: articlesPath as string, store, embedder });
  } finally {
    await store[Symbol.asyncDispose]();
    await embedder[Symbol.asyncDispose]();
  }
}

describe.skipIf(articlesPath === undefined)("ingest killed with SIGKILL and rerun", () => {
  let workspace: Awaited<ReturnType<typeof temporaryDirectory>>;
  let reference: StoredRow[];

  beforeAll(async () => {
    workspace = await temporaryDirectory("crash");
    const embedder = await createEmbedder("static");
    const store = await openVectorStore(`lancedb:${join(workspace.path, "reference")}`);
    try {
      await ingest({ source: articlesPath as string, store, embedder });
    } finally {
      await store[Symbol.asyncDispose]();
      await embedder[Symbol.asyncDispose]();
    }
    reference = await snapshotLanceDb(join(workspace.path, "reference"));
  });
  afterAll(async () => {
    await workspace?.remove();
  });

  // The first case reruns in-process (the same pipeline, cheaper), the second through the CLI.
  it.each([
    ["right after the first write", 1, "in-process"],
    ["half way", 250, "cli"],
  ])(
    "converges to the uninterrupted result when killed %s (after %i chunks written; rerun %s)",
    async (_label, threshold, rerun) => {
      const storeDirectory = join(workspace.path, `killed-${threshold}`);
      const killed = await killAfterWritten(storeDirectory, threshold);
      expect(killed.signal).toBe("SIGKILL");
      expect(killed.writtenWhenKilled).toBeGreaterThanOrEqual(threshold);
      const partial = await snapshotLanceDb(storeDirectory);
      expect(partial.length).toBeGreaterThan(0);
      expect(partial.length).toBeLessThan(reference.length);

      const summary = rerun === "cli" ? await runToCompletion(storeDirectory) : await rerunInProcess(storeDirectory);
      expect(summary.chunksUnchanged).toBeGreaterThan(0);
      expect((summary.chunksWritten as number) + (summary.chunksUnchanged as number)).toBe(reference.length);
      const recovered = await snapshotLanceDb(storeDirectory);
      expect(new Set(recovered.map((row) => row.id)).size).toBe(recovered.length);
      expect(recovered).toEqual(reference);
    },
    300_000,
  ); // spawns the CLI (tsx start-up) twice: slow on a busy 2-core machine
});
