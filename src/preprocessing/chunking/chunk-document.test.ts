import { describe, expect, it } from "vitest";
import type { CleanedDocument } from "../../domain/index.js";
import { cleanDocument } from "../cleaning/clean-document.js";
import { DEFAULT_PREPROCESSING_PARAMETERS } from "../parameters.js";
import { loadRealArticles } from "../testing/real-articles.js";
import { characterTokenCounter, wordTokenCounter } from "../testing/word-token-counter.js";
import { chunkDocument } from "./chunk-document.js";

const real = loadRealArticles();
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const author = { id: "a-1", fullName: "Ada Quill" };

function cleaned(category: CleanedDocument["category"], content: string, id = "doc-1"): CleanedDocument {
  return { id, category, author, platform: "test", title: "Title", link: "", content, sourceHash: "h" };
}

function words(count: number, prefix = "w"): string {
  return Array.from({ length: count }, (_, index) => `${prefix}${index}`).join(" ");
}

describe.skipIf(real === undefined)("chunking the 76 real articles", () => {
  const documents = (real?.articles ?? []).map((article) => cleanDocument(article));
  const tokenizer = wordTokenCounter(512);
  const chunks = documents.flatMap((document) => chunkDocument(document, tokenizer));

  it("produces a chunk count in the reference's range (reference: 500) with sane lengths", () => {
    // Ours: 472 (less page chrome than the reference, nothing dropped).
    expect(chunks.length).toBeGreaterThanOrEqual(420);
    expect(chunks.length).toBeLessThanOrEqual(560);
    const lengths = chunks.map((chunk) => chunk.text.length).sort((left, right) => left - right);
    expect(lengths[lengths.length - 1]).toBeLessThanOrEqual(2_000);
    const median = lengths[Math.floor(lengths.length / 2)] ?? 0;
    expect(median).toBeGreaterThan(1_700);
    // Under the minimum: short documents, and a chunk followed by a sentence (or code block) too
    // long to join it; rare, and never dropped (the reference dropped them).
    const short = chunks.filter((chunk) => chunk.text.length < 1_000);
    expect(short.length).toBeLessThanOrEqual(5);
    expect(lengths[0]).toBeGreaterThan(500);
  });

  it("keeps every chunk within the token limit and fills tokenCount from the tokenizer", () => {
    for (const chunk of chunks) {
      expect(chunk.tokenCount).toBe(tokenizer.countTokens(chunk.text));
      expect(chunk.tokenCount).toBeLessThanOrEqual(512);
    }
  });

  it("loses no text: the chunks of a document cover its content in order", () => {
    for (const document of documents) {
      const texts = chunks.filter((chunk) => chunk.documentId === document.id).map((chunk) => chunk.text);
      expect(texts.join(" ").replace(/\s+/g, " ")).toBe(document.content.replace(/\s+/g, " ").trim());
    }
  });

  it("covers both authors", () => {
    const authors = new Set(chunks.map((chunk) => chunk.author.fullName));
    expect([...authors].sort()).toEqual(["Maxime Labonne", "Paul Iusztin"]);
  });

  it("gives unique, UUID-shaped ids that are stable across runs", () => {
    expect(new Set(chunks.map((chunk) => chunk.id)).size).toBe(chunks.length);
    for (const chunk of chunks) expect(chunk.id).toMatch(UUID);
    const again = (real?.articles ?? [])
      .map((article) => cleanDocument(article))
      .flatMap((document) => chunkDocument(document, wordTokenCounter(512)));
    expect(again.map((chunk) => chunk.id)).toEqual(chunks.map((chunk) => chunk.id));
  });

  it("splits further when the embedder's limit is lower, never truncating (limit 128 words)", () => {
    const small = wordTokenCounter(128);
    const smallChunks = documents.flatMap((document) => chunkDocument(document, small));
    expect(smallChunks.length).toBeGreaterThan(chunks.length * 2);
    for (const chunk of smallChunks) expect(small.countTokens(chunk.text)).toBeLessThanOrEqual(128);
    const allWords = (texts: string[]) => texts.join(" ").split(/\s+/).filter(Boolean).length;
    expect(allWords(smallChunks.map((chunk) => chunk.text))).toBe(allWords(chunks.map((chunk) => chunk.text)));
  });

  it("respects a tokenizer that counts special tokens", () => {
    const withSpecials = wordTokenCounter(256, 2);
    for (const document of documents.slice(0, 10)) {
      for (const chunk of chunkDocument(document, withSpecials)) expect(chunk.tokenCount).toBeLessThanOrEqual(256);
    }
  });
});

describe("chunking rules", () => {
  it("articles: packs sentences up to the maximum and rebalances a short tail", () => {
    const sentence = (index: number) => `Sentence number ${index} explains one idea about retrieval in plain words.`;
    const content = Array.from({ length: 60 }, (_, index) => sentence(index)).join(" ");
    const chunks = chunkDocument(cleaned("articles", content), wordTokenCounter(10_000));
    for (const chunk of chunks) {
      expect(chunk.text.length).toBeLessThanOrEqual(2_000);
      expect(chunk.text.length).toBeGreaterThanOrEqual(1_000);
      expect(chunk.text).toMatch(/^Sentence number \d+ .*words\.$/);
    }
    expect(chunks.map((chunk) => chunk.text).join(" ")).toBe(content);
  });

  it("articles: a short document is one chunk; abbreviations and decimals do not end sentences", () => {
    const content = "Models like GPT-4 (e.g. the 8k version) cost $0.03 per 1k tokens. Dr. Smith agrees.";
    const chunks = chunkDocument(cleaned("articles", content), wordTokenCounter(512));
    expect(chunks.map((chunk) => chunk.text)).toEqual([content]);
  });

  it("articles: a single sentence longer than the limit is split at spaces, nothing lost", () => {
    const content = words(3_000);
    const tokenizer = wordTokenCounter(100);
    const chunks = chunkDocument(cleaned("articles", content), tokenizer);
    for (const chunk of chunks) expect(tokenizer.countTokens(chunk.text)).toBeLessThanOrEqual(100);
    expect(chunks.map((chunk) => chunk.text).join(" ")).toBe(content);
  });

  it("splits a word longer than the limit between characters (character tokenizer)", () => {
    const content = `short ${"x".repeat(50)} end`;
    const chunks = chunkDocument(cleaned("articles", content), characterTokenCounter(16));
    for (const chunk of chunks) expect([...chunk.text].length).toBeLessThanOrEqual(16);
    expect(chunks.map((chunk) => chunk.text).join("")).toBe(content.replace(/ /g, ""));
  });

  it("posts: windows of 250 tokens overlapping by 25", () => {
    const content = words(1_000);
    const chunks = chunkDocument(cleaned("posts", content), wordTokenCounter(512));
    expect(chunks.length).toBe(5);
    for (const chunk of chunks) expect(chunk.tokenCount).toBeLessThanOrEqual(250);
    for (let index = 1; index < chunks.length; index++) {
      const previous = (chunks[index - 1]?.text ?? "").split(" ");
      const current = (chunks[index]?.text ?? "").split(" ");
      expect(current.slice(0, 25)).toEqual(previous.slice(-25));
    }
    expect(chunks[0]?.text.startsWith("w0 w1 ")).toBe(true);
    expect(chunks.at(-1)?.text.endsWith("w999")).toBe(true);
  });

  it("posts: the window shrinks to the embedder's limit", () => {
    const chunks = chunkDocument(cleaned("posts", words(1_000)), wordTokenCounter(100));
    for (const chunk of chunks) expect(chunk.tokenCount).toBeLessThanOrEqual(100);
    const covered = new Set(chunks.flatMap((chunk) => chunk.text.split(" ")));
    expect(covered.size).toBe(1_000);
  });

  it("posts: a short post is one chunk", () => {
    const chunks = chunkDocument(cleaned("posts", "RAG is not dead."), wordTokenCounter(512));
    expect(chunks.map((chunk) => [chunk.text, chunk.index, chunk.tokenCount])).toEqual([["RAG is not dead.", 0, 4]]);
  });

  it("repositories: 1,500-token windows overlapping by 100, each starting with its file path", () => {
    const body = Array.from({ length: 2_000 }, (_, index) => `line_${index} = ${index}`).join("\n");
    const content = `==> src/small.py <==\nx = 1\n\n==> src/big.py <==\n${body}\n\n==> README.md <==\n# Title`;
    const tokenizer = wordTokenCounter(2_048);
    const chunks = chunkDocument(cleaned("repositories", content), tokenizer);
    expect(chunks[0]?.text).toBe("==> src/small.py <==\nx = 1");
    const big = chunks.filter((chunk) => chunk.text.startsWith("==> src/big.py <=="));
    expect(big.length).toBeGreaterThanOrEqual(4);
    for (const chunk of chunks) expect(chunk.tokenCount).toBeLessThanOrEqual(1_500);
    for (let index = 1; index < big.length; index++) {
      const previous = (big[index - 1]?.text ?? "").split(/\s+/).slice(4);
      const current = (big[index]?.text ?? "").split(/\s+/).slice(4);
      const overlap = current.slice(0, 90);
      expect(previous.slice(-100).join(" ")).toContain(overlap.join(" "));
    }
    expect(chunks.at(-1)?.text).toBe("==> README.md <==\n# Title");
  });

  it("repositories: small files are packed together, and a low limit is respected", () => {
    const files = Array.from({ length: 30 }, (_, index) => `==> f${index}.py <==\nvalue_${index} = ${index}`).join(
      "\n\n",
    );
    const packed = chunkDocument(cleaned("repositories", files), wordTokenCounter(2_048));
    expect(packed.length).toBe(1);
    const tight = wordTokenCounter(20);
    const split = chunkDocument(cleaned("repositories", files), tight);
    expect(split.length).toBeGreaterThan(1);
    for (const chunk of split) expect(tight.countTokens(chunk.text)).toBeLessThanOrEqual(20);
  });

  it("ids: same document and text → same id; other document or position → other id", () => {
    const tokenizer = wordTokenCounter(512);
    const first = chunkDocument(cleaned("posts", "Same text.", "doc-a"), tokenizer)[0];
    const again = chunkDocument(cleaned("posts", "Same text.", "doc-a"), tokenizer)[0];
    const other = chunkDocument(cleaned("posts", "Same text.", "doc-b"), tokenizer)[0];
    const changed = chunkDocument(cleaned("posts", "Other text.", "doc-a"), tokenizer)[0];
    expect(first?.id).toBe(again?.id);
    expect(first?.id).not.toBe(other?.id);
    expect(first?.id).not.toBe(changed?.id);
    expect(first?.id).toMatch(UUID);
  });

  it("uses the parameters given", () => {
    const parameters = {
      ...DEFAULT_PREPROCESSING_PARAMETERS.chunking,
      posts: { strategy: "tokens" as const, chunkTokens: 50, overlapTokens: 0 },
    };
    const chunks = chunkDocument(cleaned("posts", words(200)), wordTokenCounter(512), parameters);
    expect(chunks.map((chunk) => chunk.tokenCount)).toEqual([50, 50, 50, 50]);
  });

  it("rejects an invalid token limit", () => {
    expect(() => chunkDocument(cleaned("posts", "x"), wordTokenCounter(0))).toThrow(/maxInputTokens/);
  });
});
