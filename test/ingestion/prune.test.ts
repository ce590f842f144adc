/**
 * `ingest --prune`: per source, the documents an input no longer holds are deleted (and counted),
 * documents of other sources are kept, and a run that dies at any write (every upsert, metadata
 * write and delete, one crash point after another) converges when rerun to what an uninterrupted
 * run leaves: the same rows as a fresh ingest of the remaining inputs. Also through the CLI
 * (`--prune`, `--json`), on a real LanceDB store and the sample data.
 */
import { spawn } from "node:child_process";
import { cpSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createEmbedder, type Embedder } from "../../src/embedding/index.js";
import { ingest } from "../../src/ingestion/index.js";
import { openVectorStore, type VectorStore } from "../../src/vector-store/index.js";
import { snapshotLanceDb, temporaryDirectory } from "./helpers.js";

const root = resolve(import.meta.dirname, "../..");
const postLines = readFileSync(join(root, "sample-data", "posts.jsonl"), "utf8")
  .trim()
  .split("\n");
const articles = JSON.parse(readFileSync(join(root, "sample-data", "articles.json"), "utf8")) as unknown[];

/** A store whose `failAt`-th write (upsert, deleteChunks, writeMetadata) throws: a crash at that point. */
function crashingStore(store: VectorStore, failAt: number): { store: VectorStore; writes: () => number } {
  let writes = 0;
  const guard = () => {
    if (writes++ === failAt) throw new Error(`simulated crash at write ${failAt}`);
  };
  const wrapped: VectorStore = {
    ...store,
    kind: store.kind,
    location: store.location,
    supportsLexical: store.supportsLexical,
    readMetadata: () => store.readMetadata(),
    writeMetadata: async (metadata) => {
      guard();
      await store.writeMetadata(metadata);
    },
    ensureCollections: (dimensions) => store.ensureCollections(dimensions),
    drop: () => store.drop(),
    upsert: async (chunks, options) => {
      guard();
      await store.upsert(chunks, options);
    },
    chunkIdsByDocument: (category, ids) => store.chunkIdsByDocument(category, ids),
    deleteChunks: async (category, ids) => {
      guard();
      await store.deleteChunks(category, ids);
    },
    deleteDocument: (category, id) => store.deleteDocument(category, id),
    search: (request) => store.search(request),
    listAuthors: () => store.listAuthors(),
    count: (category) => store.count(category),
    optimize: () => store.optimize(),
    [Symbol.asyncDispose]: () => store[Symbol.asyncDispose](),
  };
  return { store: wrapped, writes: () => writes };
}

describe("ingest --prune", () => {
  let embedder: Embedder;
  let workspace: Awaited<ReturnType<typeof temporaryDirectory>>;
  let inputA: string;
  let inputB: string;
  /** A store with A (4 posts) and B (3 articles + the 4th post) ingested. */
  let base: string;
  /** The rows a fresh ingest of A' (2 posts, one of them changed) and B gives. */
  let expected: Awaited<ReturnType<typeof snapshotLanceDb>>;

  const withStore = async <T>(directory: string, run: (store: VectorStore) => Promise<T>): Promise<T> => {
    const store = await openVectorStore(`lancedb:${directory}`);
    try {
      return await run(store);
    } finally {
      await store[Symbol.asyncDispose]();
    }
  };
  /** A' : the first post unchanged, the second with new text; posts 3 and 4 gone. */
  const writeSmallerA = () => {
    const changed = JSON.parse(postLines[1] as string) as { content: { text: string } };
    changed.content.text = `${changed.content.text}\n\nEdited: one more paragraph about chunk sizes.`;
    writeFileSync(inputA, `${postLines[0]}\n${JSON.stringify(changed)}\n`);
  };

  beforeAll(async () => {
    embedder = await createEmbedder("static");
    workspace = await temporaryDirectory("prune");
    inputA = join(workspace.path, "a.jsonl");
    inputB = join(workspace.path, "b.json");
    writeFileSync(inputA, `${postLines.join("\n")}\n`);
    writeFileSync(inputB, JSON.stringify([...articles, JSON.parse(postLines[3] as string)]));
    base = join(workspace.path, "base");
    await withStore(base, async (store) => {
      await ingest({ source: inputA, store, embedder });
      await ingest({ source: inputB, store, embedder });
    });
    const original = readFileSync(inputA, "utf8");
    writeSmallerA();
    const fresh = join(workspace.path, "fresh");
    await withStore(fresh, async (store) => {
      await ingest({ source: inputA, store, embedder });
      await ingest({ source: inputB, store, embedder });
    });
    expected = await snapshotLanceDb(fresh);
    writeFileSync(inputA, original);
  });
  afterAll(async () => {
    await embedder?.[Symbol.asyncDispose]();
    await workspace?.remove();
  });

  it("deletes what the source no longer holds, keeps other sources' documents, and counts them", async () => {
    const directory = join(workspace.path, "pruned");
    cpSync(base, directory, { recursive: true });
    writeSmallerA();
    const before = await snapshotLanceDb(directory);
    // Without --prune nothing is deleted: the store only grows by the changed post's new chunk(s).
    const additive = await withStore(directory, (store) => ingest({ source: inputA, store, embedder }));
    expect(additive.documentsPruned).toBe(0);
    expect((await snapshotLanceDb(directory)).filter((row) => row.documentId === postIds()[2])).toHaveLength(
      before.filter((row) => row.documentId === postIds()[2]).length,
    );
    const summary = await withStore(directory, (store) => ingest({ source: inputA, store, embedder, prune: true }));
    // Post 3 goes; post 4 stays (input B holds it too).
    expect(summary.documentsPruned).toBe(1);
    expect(summary.chunksDeleted).toBe(before.filter((row) => row.documentId === postIds()[2]).length);
    expect(await snapshotLanceDb(directory)).toEqual(expected);
    // Nothing left to prune on a second run.
    const again = await withStore(directory, (store) => ingest({ source: inputA, store, embedder, prune: true }));
    expect(again).toMatchObject({ documentsPruned: 0, chunksDeleted: 0, chunksWritten: 0 });
  });

  it("converges to the same store when the pruning run crashes at any write and is rerun", async () => {
    writeSmallerA();
    let failAt = 0;
    for (;;) {
      const directory = join(workspace.path, `crash-${failAt}`);
      cpSync(base, directory, { recursive: true });
      let writes = 0;
      const crashed = await withStore(directory, async (store) => {
        const crashing = crashingStore(store, failAt);
        try {
          await ingest({ source: inputA, store: crashing.store, embedder, prune: true });
          return false;
        } catch (error) {
          expect(String(error)).toContain("simulated crash");
          return true;
        } finally {
          writes = crashing.writes();
        }
      });
      if (!crashed) break; // failAt is past the last write: every crash point was tried
      const rerun = await withStore(directory, (store) => ingest({ source: inputA, store, embedder, prune: true }));
      expect(rerun.documentsPruned).toBeLessThanOrEqual(1);
      expect(await snapshotLanceDb(directory), `crash at write ${failAt} of ${writes}`).toEqual(expected);
      failAt++;
    }
    expect(failAt).toBeGreaterThanOrEqual(4); // upsert, source record, delete, source record
  });

  it("llm-twin ingest --prune --json reports documentsPruned", async () => {
    const directory = join(workspace.path, "cli");
    cpSync(base, directory, { recursive: true });
    writeSmallerA();
    const child = spawn(
      process.execPath,
      [
        join(root, "bin/llm-twin.js"),
        "ingest",
        inputA,
        "--store",
        `lancedb:${directory}`,
        "--prune",
        "--json",
        "--no-artifacts",
        "--progress",
        "none",
      ],
      { cwd: root, env: { ...process.env, LLM_TWIN_FROM_SOURCE: "1", LANCEDB_LOG: "error" } },
    );
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (data: Buffer) => (stdout += data.toString()));
    child.stderr.on("data", (data: Buffer) => (stderr += data.toString()));
    const code = await new Promise((resolveExit) => child.once("exit", resolveExit));
    expect(code, stderr).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({ documentsPruned: 1, documentsRead: 2 });
    expect(await snapshotLanceDb(directory)).toEqual(expected);
  }, 120_000);
});

function postIds(): string[] {
  return postLines.map((line) => (JSON.parse(line) as { _id: string })._id);
}
