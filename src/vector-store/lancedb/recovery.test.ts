/**
 * #13 item 4: store files corrupted or replaced under a running reader. The failure is reported
 * (search and check fail, readiness says so), the cached handles are dropped, and once a clean
 * copy is back the very next request answers, without reopening the store.
 */
import { cp, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createReadinessCheck } from "../../rag/readiness.js";
import { axisVector, contractChunk, contractId } from "../contract.js";
import { metadataSample } from "../contract-fixtures.js";
import { openVectorStore } from "../open.js";

const directories: string[] = [];
afterAll(async () => {
  await Promise.all(directories.map((directory) => rm(directory, { recursive: true, force: true })));
});

async function dataFiles(directory: string): Promise<string[]> {
  const files: string[] = [];
  for (const entry of await readdir(directory, { recursive: true, withFileTypes: true })) {
    if (entry.isFile() && entry.name.endsWith(".lance")) files.push(join(entry.parentPath, entry.name));
  }
  return files;
}

describe("LanceDB recovery under a running reader", () => {
  it("fails while the files are corrupted and answers on the next request once they are restored", async () => {
    const root = await mkdtemp(join(tmpdir(), "llm-twin-recovery-"));
    directories.push(root);
    const directory = join(root, "store");
    const backup = join(root, "backup");
    const writer = await openVectorStore(`lancedb:${directory}`);
    await writer.upsert(["a", "b", "c"].map((name, position) => contractChunk({ name, vector: axisVector(position) })));
    await writer[Symbol.asyncDispose]();
    await cp(directory, backup, { recursive: true });

    const reader = await openVectorStore(`lancedb:${directory}`);
    const readiness = createReadinessCheck({ store: reader, expectedFingerprintHash: "unused", timeoutMs: 5_000 });
    const query = { category: "articles" as const, mode: "dense" as const, vector: axisVector(1), limit: 1 };
    expect((await reader.search(query))[0]?.chunk.id).toBe(contractId("b"));
    expect((await readiness()).checks.store?.ok).toBe(true);

    const files = await dataFiles(join(directory, "embedded_articles.lance"));
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) await writeFile(file, "corrupted bytes, not a lance file");
    // Dense search may still answer from the in-memory vector copy (and pages LanceDB holds): then
    // it must answer right; otherwise it fails with the dependency code, never with a wrong answer.
    const during = await reader.search(query).then(
      (hits) => ({ id: hits[0]?.chunk.id }),
      (error: unknown) => ({ error }),
    );
    if ("error" in during) expect(during.error).toMatchObject({ code: "dependency_unavailable" });
    else expect(during.id).toBe(contractId("b"));
    await expect(reader.check()).rejects.toMatchObject({ code: "dependency_unavailable" });
    const broken = await readiness();
    expect(broken.checks.store?.ok).toBe(false);

    await rm(directory, { recursive: true, force: true });
    await cp(backup, directory, { recursive: true });
    expect((await reader.search(query))[0]?.chunk.id).toBe(contractId("b"));
    expect((await readiness()).checks.store?.ok).toBe(true);
    await reader[Symbol.asyncDispose]();
  });

  it("follows a store directory replaced by another one", async () => {
    const root = await mkdtemp(join(tmpdir(), "llm-twin-recovery-"));
    directories.push(root);
    const directory = join(root, "store");
    const other = join(root, "other");
    for (const [path, name] of [
      [directory, "first"],
      [other, "second"],
    ] as const) {
      const store = await openVectorStore(`lancedb:${path}`);
      await store.upsert([
        contractChunk({ name, vector: axisVector(0) }),
        contractChunk({ name: `${name}-2`, vector: axisVector(3) }),
      ]);
      await store.writeMetadata(metadataSample());
      await store[Symbol.asyncDispose]();
    }
    const reader = await openVectorStore(`lancedb:${directory}`);
    const query = { category: "articles" as const, mode: "dense" as const, vector: axisVector(0), limit: 1 };
    expect((await reader.search(query))[0]?.chunk.id).toBe(contractId("first"));
    await rm(directory, { recursive: true, force: true });
    await cp(other, directory, { recursive: true });
    expect((await reader.search(query))[0]?.chunk.id).toBe(contractId("second"));
    await reader[Symbol.asyncDispose]();
  });
});
