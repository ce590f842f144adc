import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { canonicalJson, sha256Hex } from "../../preprocessing/canonical-json.js";
import { requireSharedDataset } from "../../testing/shared-datasets.js";
import { describeSources, type ReadOptions, type ReadResult, readRawDocuments } from "./index.js";

let folder: string;
const article = (id: string, extra: Record<string, unknown> = {}) => ({
  _id: id,
  content: { Title: `Title ${id}`, Subtitle: null, Content: `Content of ${id}.`, language: "en" },
  platform: "blog",
  author_id: "author-1",
  author_full_name: "Ada Quill",
  link: `https://example.com/${id}`,
  ...extra,
});
const post = (id: string) => ({
  _id: id,
  category: "posts",
  content: { text: `Post ${id} text.` },
  platform: "linkedin",
  author_id: "author-1",
  author_full_name: "Ada Quill",
  link: null,
});
const repository = (id: string) => ({
  _id: id,
  name: "ada/twin",
  content: { "src/a.ts": "export const a = 1;\n" },
  platform: "github",
  author_id: "author-1",
  author_full_name: "Ada Quill",
  link: "https://github.com/ada/twin",
});

async function collect(path: string, options?: ReadOptions): Promise<ReadResult[]> {
  const results: ReadResult[] = [];
  for await (const result of readRawDocuments(path, options)) results.push(result);
  return results;
}

async function write(name: string, content: string | Buffer): Promise<string> {
  const path = join(folder, name);
  await writeFile(path, content);
  return path;
}

beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), "llm-twin-readers-"));
});
afterAll(async () => {
  await rm(folder, { recursive: true, force: true });
});

describe("readRawDocuments", () => {
  it("reads a JSON array of the three categories with source positions and hashes", async () => {
    const records = [article("a1"), post("p1"), repository("r1")];
    const path = await write("mixed.json", JSON.stringify(records, null, 2));
    const results = await collect(path);
    expect(results.map((result) => (result.ok ? result.document.category : result.reason))).toEqual([
      "articles",
      "posts",
      "repositories",
    ]);
    for (const [index, result] of results.entries()) {
      expect(result.source).toEqual({ file: path, index });
      if (result.ok) expect(result.sourceHash).toBe(sha256Hex(canonicalJson(records[index])));
    }
    const first = results[0];
    expect(first?.ok && first.document).toEqual({
      id: "a1",
      category: "articles",
      author: { id: "author-1", fullName: "Ada Quill" },
      platform: "blog",
      link: "https://example.com/a1",
      title: "Title a1",
      subtitle: "",
      content: "Content of a1.",
      language: "en",
    });
    const third = results[2];
    expect(third?.ok && third.document.category === "repositories" && third.document.files).toEqual({
      "src/a.ts": "export const a = 1;\n",
    });
  });

  it("reads JSON Lines, skipping blank lines, reporting bad lines by index", async () => {
    const path = await write(
      "posts.jsonl",
      `${JSON.stringify(post("p1"))}\n\n{"_id": "broken"\n${JSON.stringify(post("p2"))}\n`,
    );
    const results = await collect(path);
    expect(results.map((result) => [result.source.index, result.ok])).toEqual([
      [0, true],
      [2, false],
      [3, true],
    ]);
    const failure = results[1];
    expect(failure?.ok === false && failure.reason).toMatch(/^line 3: invalid JSON/);
  });

  it("reports an empty file", async () => {
    for (const [name, content] of [
      ["empty.json", ""],
      ["blank.jsonl", "\n  \n"],
    ] as const) {
      const path = await write(name, content);
      expect(await collect(path)).toEqual([{ ok: false, source: { file: path, index: -1 }, reason: "file is empty" }]);
    }
  });

  it("reports a whole file of invalid JSON once", async () => {
    const path = await write("invalid.json", '[{"_id": "a1", ');
    const results = await collect(path);
    expect(results).toHaveLength(1);
    expect(results[0]).toMatchObject({ ok: false, source: { file: path, index: -1 } });
    expect(results[0]?.ok === false && results[0].reason).toMatch(/^invalid JSON/);
  });

  it("reports missing and mistyped fields, naming them", async () => {
    const { link: _link, ...withoutLink } = article("a1");
    const records = [
      withoutLink,
      article("a2", { author_full_name: 42 }),
      { ...article("a3"), content: { Title: "T", Subtitle: null } },
      { ...repository("r1"), content: { "a.py": 1 } },
      "just a string",
      { ...post("p1"), _id: "" },
    ];
    const results = await collect(await write("missing.json", JSON.stringify(records)));
    const reasons = results.map((result) => (result.ok ? "ok" : result.reason));
    expect(reasons).toEqual([
      "missing field link",
      "field author_full_name must be a string, got number",
      "missing field content.Content",
      'content["a.py"] must be the file\'s text (a string), got number',
      "record must be a JSON object, got string",
      "field _id must be a non-empty string, got string",
    ]);
  });

  it("reports an unknown category and a record whose category cannot be told", async () => {
    const records = [
      { ...post("p1"), category: "videos" },
      { _id: "x", content: { body: "?" }, platform: "p", author_id: "a", author_full_name: "A" },
    ];
    const results = await collect(await write("category.json", JSON.stringify(records)));
    expect(results[0]?.ok === false && results[0].reason).toBe(
      'unknown category "videos" (expected one of articles, posts, repositories)',
    );
    expect(results[1]?.ok === false && results[1].reason).toMatch(/^cannot tell the category/);
  });

  it("rejects a 10 MB document (default limit 5 MiB), keeps the others; the limit is configurable", async () => {
    const huge = article("big", { content: { Title: "Big", Subtitle: "", Content: "word ".repeat(2_000_000) } });
    const path = await write("big.json", JSON.stringify([article("a1"), huge, article("a2")]));
    const results = await collect(path);
    expect(results.map((result) => result.ok)).toEqual([true, false, true]);
    expect(results[1]?.ok === false && results[1].reason).toMatch(
      /^document is 1000\d{4} bytes, over the limit of 5242880 bytes \(maxDocumentBytes\)$/,
    );
    const lowered = await collect(path, { maxDocumentBytes: 100 });
    expect(lowered.every((result) => !result.ok)).toBe(true);
    const raised = await collect(path, { maxDocumentBytes: 20 * 1024 * 1024 });
    expect(raised.every((result) => result.ok)).toBe(true);
    const jsonLines = await write(
      "big.jsonl",
      [article("a1"), huge].map((record) => JSON.stringify(record)).join("\n"),
    );
    expect((await collect(jsonLines)).map((result) => result.ok)).toEqual([true, false]);
  });

  it("rejects a file over maxFileBytes", async () => {
    const path = await write("limited.json", JSON.stringify([article("a1")]));
    const results = await collect(path, { maxFileBytes: 10 });
    expect(results).toHaveLength(1);
    expect(results[0]?.ok === false && results[0].reason).toMatch(/over the limit of 10 bytes \(maxFileBytes\)/);
  });

  it("rejects non-UTF-8 bytes with a reason instead of replacing them", async () => {
    const good = Buffer.from(JSON.stringify(article("a1")));
    const bad = Buffer.concat([
      Buffer.from('{"_id":"a2","content":{"Title":"caf'),
      Buffer.from([0xe9]),
      Buffer.from('","Subtitle":"","Content":"x"},"platform":"p","author_id":"a","author_full_name":"A","link":"l"}'),
    ]);
    const lines = await write("latin1.jsonl", Buffer.concat([good, Buffer.from("\n"), bad, Buffer.from("\n")]));
    const results = await collect(lines);
    expect(results.map((result) => result.ok)).toEqual([true, false]);
    expect(results[1]?.ok === false && results[1].reason).toBe(
      "line 2 is not valid UTF-8 (truncated sequence starting with byte 0xe9 at byte 35)",
    );
    const array = await write(
      "latin1.json",
      Buffer.concat([Buffer.from("["), good, Buffer.from(","), bad, Buffer.from("]")]),
    );
    const arrayResults = await collect(array);
    expect(arrayResults.map((result) => result.ok)).toEqual([true, false]);
    expect(arrayResults[1]?.ok === false && arrayResults[1].reason).toBe(
      "record contains bytes that are not valid UTF-8",
    );
  });

  it("reads a folder recursively in a deterministic order, skipping hidden and other files", async () => {
    const root = join(folder, "corpus");
    await mkdir(join(root, "b", "nested"), { recursive: true });
    await mkdir(join(root, ".hidden"), { recursive: true });
    await writeFile(join(root, "b", "nested", "z.jsonl"), JSON.stringify(post("p3")));
    await writeFile(join(root, "b", "a.json"), JSON.stringify([post("p2")]));
    await writeFile(join(root, "a.json"), JSON.stringify(post("p1")));
    await writeFile(join(root, "c.jsonl.gz"), gzipSync(JSON.stringify(post("p4"))));
    await writeFile(join(root, "notes.txt"), "ignored");
    await writeFile(join(root, ".hidden", "x.json"), JSON.stringify([post("hidden")]));
    const results = await collect(root);
    expect(results.map((result) => (result.ok ? result.document.id : result.reason))).toEqual(["p1", "p2", "p3", "p4"]);
    expect(results.map((result) => result.source.file)).toEqual([
      join(root, "a.json"),
      join(root, "b/a.json"),
      join(root, "b/nested/z.jsonl"),
      join(root, "c.jsonl.gz"),
    ]);
    const sources = await describeSources(root);
    expect(sources.map((source) => source.file)).toEqual(results.map((result) => result.source.file));
    for (const source of sources) {
      expect(source.sha256).toMatch(/^[0-9a-f]{64}$/);
      expect(source.bytes).toBeGreaterThan(0);
    }
  });

  it("fails clearly on a path that does not exist", async () => {
    await expect(collect(join(folder, "nope"))).rejects.toThrow(/input path not found/);
  });

  const shared = requireSharedDataset("llm-twin", "articles.json");
  it.skipIf(shared === undefined)("reads the 76 real articles without a failure", async () => {
    const results = await collect(shared ?? "");
    expect(results).toHaveLength(76);
    expect(results.every((result) => result.ok)).toBe(true);
    const authors = new Set(results.map((result) => (result.ok ? result.document.author.fullName : "")));
    expect([...authors].sort()).toEqual(["Maxime Labonne", "Paul Iusztin"]);
  });
});
