/**
 * #13 item 23 / #19 item 4: a service keeps answering while the feature pipeline re-indexes.
 * Readers (another store handle, as the serving process has) search in a loop through a full
 * `ingest --recreate` and an incremental re-ingest of changed documents: no search may fail and
 * none may come back empty; afterwards the readers see the new contents without reopening.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createEmbedder, type Embedder } from "../../src/embedding/index.js";
import { ingest } from "../../src/ingestion/index.js";
import { openVectorStore, type VectorStore } from "../../src/vector-store/index.js";
import { openQdrantStore } from "../../src/vector-store/qdrant/store.js";
import { checkedFakeQdrant } from "../../src/vector-store/qdrant/testing.js";
import { temporaryDirectory, writeJson } from "./helpers.js";

const SAMPLE = join(import.meta.dirname, "../../sample-data/articles.json");
const READERS = 4;

type Tally = { answered: number; failed: number; empty: number; errors: string[] };

/** Readers searching until `stop` resolves. */
function readUnderLoad(reader: VectorStore, vector: Float32Array, stop: Promise<void>): Promise<Tally> {
  const tally: Tally = { answered: 0, failed: 0, empty: 0, errors: [] };
  let running = true;
  void stop.then(() => {
    running = false;
  });
  const client = async (index: number) => {
    const mode = (["hybrid", "dense", "lexical", "hybrid"] as const)[index % 4] ?? "hybrid";
    while (running) {
      try {
        const hits = await reader.search({ category: "articles", mode, vector, text: "chunking retrieval", limit: 3 });
        if (hits.length === 0) tally.empty++;
        else tally.answered++;
      } catch (error) {
        tally.failed++;
        if (tally.errors.length < 3) tally.errors.push(String((error as Error).message));
      }
      await new Promise((resolve) => setImmediate(resolve));
    }
  };
  return Promise.all(Array.from({ length: READERS }, (_, index) => client(index))).then(() => tally);
}

describe("serving while the feature pipeline re-indexes", () => {
  let embedder: Embedder;
  let workspace: Awaited<ReturnType<typeof temporaryDirectory>>;
  let changedSource: string;

  beforeAll(async () => {
    embedder = await createEmbedder("static");
    workspace = await temporaryDirectory("rebuild-load");
    const records = JSON.parse(await readFile(SAMPLE, "utf8")) as { content: { Content: string } }[];
    for (const record of records.slice(0, 2))
      record.content.Content += "\n\nA new paragraph about the quetzal retrieval benchmark.";
    changedSource = await writeJson(join(workspace.path, "changed.json"), records);
  });
  afterAll(async () => {
    await embedder?.[Symbol.asyncDispose]();
    await workspace?.remove();
  });

  const stores: [string, () => Promise<{ writer: VectorStore; reader: VectorStore }>][] = [
    [
      "LanceDB (a second handle on the folder)",
      async () => {
        const uri = `lancedb:${join(workspace.path, `store-${Math.random().toString(36).slice(2)}`)}`;
        return { writer: await openVectorStore(uri), reader: await openVectorStore(uri) };
      },
    ],
    [
      "Qdrant (schema-checked fake server, a second client)",
      async () => {
        const { transport } = checkedFakeQdrant();
        return {
          writer: await openQdrantStore({ url: "http://fake", transport }),
          reader: await openQdrantStore({ url: "http://fake", transport }),
        };
      },
    ],
  ];

  for (const [name, open] of stores) {
    it(`${name}: 0 failed and 0 empty answers through a full rebuild and an incremental re-ingest`, async () => {
      const { writer, reader } = await open();
      try {
        await ingest({ source: SAMPLE, store: writer, embedder });
        const [vector] = await embedder.embed(["chunking for retrieval"]);
        const countBefore = await reader.count();
        expect(countBefore).toBeGreaterThan(0);

        let finish: () => void = () => {};
        const stop = new Promise<void>((resolve) => {
          finish = resolve;
        });
        const load = readUnderLoad(reader, vector as Float32Array, stop);
        const rebuilt = await ingest({ source: SAMPLE, store: writer, embedder, recreate: true });
        const incremental = await ingest({ source: changedSource, store: writer, embedder });
        finish();
        const tally = await load;

        expect(rebuilt.recreated).toBe(true);
        expect(incremental.documentsRead - incremental.documentsUnchanged).toBe(2);
        expect(tally.errors).toEqual([]);
        expect(tally).toMatchObject({ failed: 0, empty: 0 });
        expect(tally.answered).toBeGreaterThan(READERS);
        // The readers see the re-ingested contents, without reopening.
        const fresh = await reader.search({ category: "articles", mode: "lexical", text: "quetzal", limit: 5 });
        expect(fresh.length).toBeGreaterThan(0);
        expect(await reader.count()).toBe(await writer.count());
      } finally {
        await reader[Symbol.asyncDispose]();
        await writer[Symbol.asyncDispose]();
      }
    });
  }
});
