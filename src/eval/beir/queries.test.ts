import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { readBeirQrels, readBeirSplit, resolveBeirQueriesFile } from "./queries.js";

let directory: string;
beforeEach(async () => {
  directory = await mkdtemp(join(tmpdir(), "beir-"));
});
afterEach(async () => {
  await rm(directory, { recursive: true, force: true });
});

describe("BEIR queries and qrels", () => {
  it("reads queries-<split>.jsonl and the split's qrels, keeping only judged queries", async () => {
    await writeFile(
      join(directory, "queries-train.jsonl"),
      `${JSON.stringify({ _id: "1", text: "first" })}\n\n${JSON.stringify({ _id: "2", text: "unjudged" })}\n${JSON.stringify({ _id: "3", text: "third" })}\n`,
    );
    await mkdir(join(directory, "qrels"));
    await writeFile(
      join(directory, "qrels", "train.tsv"),
      "query-id\tcorpus-id\tscore\n1\td1\t1\n3\td2\t2\n3\td3\t1\n3\td4\t0\n",
    );
    const split = await readBeirSplit(directory, "train");
    expect(split.queries.map((query) => query.id)).toEqual(["1", "3"]);
    expect([...(split.qrels.get("3") ?? new Map()).entries()]).toEqual([
      ["d2", 2],
      ["d3", 1],
    ]);
  });

  it("falls back to queries.jsonl", async () => {
    await writeFile(join(directory, "queries.jsonl"), "");
    expect(resolveBeirQueriesFile(directory, "test")).toBe(join(directory, "queries.jsonl"));
  });

  it("names the missing files", async () => {
    await expect(readBeirSplit(directory, "dev")).rejects.toThrow(/queries-dev\.jsonl or .*queries\.jsonl/);
    await writeFile(join(directory, "queries.jsonl"), "");
    await expect(readBeirSplit(directory, "dev")).rejects.toThrow(/qrels.dev\.tsv does not exist/);
    await expect(readBeirSplit(join(directory, "absent"), "dev")).rejects.toThrow(/does not exist/);
  });

  it("names the splits the folder has when the asked one is missing", async () => {
    await writeFile(join(directory, "queries-train.jsonl"), "");
    expect(() => resolveBeirQueriesFile(directory, "test")).toThrow(
      /expected .*queries-test\.jsonl or .*queries\.jsonl; this folder has split\(s\) train: pass --split train$/,
    );
  });

  it("rejects malformed lines with their line number", async () => {
    await writeFile(join(directory, "bad.tsv"), "header\n1\td1\n");
    await expect(readBeirQrels(join(directory, "bad.tsv"))).rejects.toThrow(/bad\.tsv:2/);
  });
});
