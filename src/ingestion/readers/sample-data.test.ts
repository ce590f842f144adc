import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { chunkDocument, cleanDocument } from "../../preprocessing/index.js";
import { wordTokenCounter } from "../../preprocessing/testing/word-token-counter.js";
import { projectRoot } from "../../testing/shared-datasets.js";
import { readRawDocuments } from "./index.js";

describe("the project's sample corpus (sample-data/)", () => {
  it("reads without a failure: every category, both authors, chunks within the limit", async () => {
    const categories = new Map<string, number>();
    const authors = new Set<string>();
    const tokenizer = wordTokenCounter(128);
    for await (const result of readRawDocuments(join(projectRoot, "sample-data"))) {
      if (!result.ok) throw new Error(`${result.source.file}#${result.source.index}: ${result.reason}`);
      const document = cleanDocument(result.document, { sourceHash: result.sourceHash });
      categories.set(document.category, (categories.get(document.category) ?? 0) + 1);
      authors.add(document.author.fullName);
      const chunks = chunkDocument(document, tokenizer);
      expect(chunks.length).toBeGreaterThan(0);
      for (const chunk of chunks) expect(chunk.tokenCount).toBeLessThanOrEqual(128);
    }
    expect(Object.fromEntries(categories)).toEqual({ articles: 3, posts: 4, repositories: 2 });
    expect([...authors].sort()).toEqual(["Ada Quill", "Tomás Reyes"]);
  });
});
