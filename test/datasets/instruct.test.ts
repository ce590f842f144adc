/**
 * `llm-twin dataset instruct` against a real loopback HTTP server speaking the OpenAI chat API
 * (scripted replies): JSON-schema requests, filters and dedup counts, exports, the content-addressed
 * artifact, and resumption after the CLI process is killed half-way.
 */
import { cp, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateInstructDataset } from "../../src/datasets/index.js";
import { createInstructionWriter } from "../../src/datasets/instruct-writer.js";
import { spawnCli } from "../../src/testing/cli-process.js";
import { type JudgeRequest, type ScriptedReply, startScriptedJudge } from "../../src/testing/scripted-judge.js";
import { makeDocumentArtifact, TOPICS } from "./document-artifact.js";
import { runCli } from "./run-cli.js";

/** Per chunk: one instruction of its own, one exact duplicate and one near duplicate shared by all chunks. */
function reply(request: JudgeRequest): ScriptedReply {
  const extract = request.messages.at(-1)?.content.split("Extract:\n")[1] ?? "";
  const numbers = [...extract.matchAll(/number (\d+) of topic (\d+)/g)].map((match) => `${match[2]}.${match[1]}`);
  const own = `Describe sentences ${numbers[0]} through ${numbers.at(-1)} in detail`;
  return {
    kind: "content",
    content: JSON.stringify({
      instructions: [
        own,
        "Write a post about machine learning systems.",
        "Please write a post about machine learning systems",
      ],
    }),
  };
}

describe("llm-twin dataset instruct", () => {
  let scratch: string;
  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), "llm-twin-instruct-"));
  });
  afterAll(async () => {
    await rm(scratch, { recursive: true, force: true });
  });

  it("asks for schema-constrained instructions per chunk, filters, dedups, splits and exports", async () => {
    const artifacts = join(scratch, "direct");
    await makeDocumentArtifact(artifacts);
    const server = await startScriptedJudge(reply);
    try {
      const writer = createInstructionWriter({ url: server.url, model: "writer", timeoutMs: 10_000, retries: 0 });
      const result = await generateInstructDataset({
        artifactsDirectory: artifacts,
        from: "latest",
        writer,
        perChunk: 3,
        concurrency: 2,
      });
      const chunks = result.chunks;
      expect(chunks).toBeGreaterThan(TOPICS.length); // documents were chunked
      expect(server.requests).toHaveLength(chunks);
      expect(server.requests[0]?.responseFormat).toMatchObject({
        type: "json_schema",
        json_schema: {
          name: "instructions",
          strict: true,
          schema: { properties: { instructions: { minItems: 3, maxItems: 3 } } },
        },
      });
      const { counts } = result.manifest;
      expect(counts).toMatchObject({
        chunks,
        generated: chunks * 3,
        exactDuplicates: 2 * (chunks - 1),
        nearDuplicates: 1,
        kept: chunks + 1,
      });
      expect((counts.train ?? 0) + (counts.test ?? 0)).toBe(chunks + 1);
      expect(result.manifest).toMatchObject({
        kind: "instruct",
        parent: "d0c5000000000001",
        lineage: { documents: "d0c5000000000001", traces: null },
        generator: { model: "writer", promptTemplateVersion: "instruct-v1" },
      });
      const train = (await readFile(join(result.path, "train.messages.jsonl"), "utf8"))
        .trim()
        .split("\n")
        .map((line) => JSON.parse(line));
      expect(train[0].messages.map((message: { role: string }) => message.role)).toEqual(["user", "assistant"]);
      const alpaca = (await readFile(join(result.path, "train.alpaca.jsonl"), "utf8"))
        .trim()
        .split("\n")
        .map((line) => JSON.parse(line));
      expect(alpaca).toHaveLength(counts.train ?? -1);
      expect(Object.keys(alpaca[0])).toEqual(["instruction", "input", "output"]);
      expect(alpaca[0].output).toBe(train[0].messages[1].content);

      // artifacts list | show see the dataset with its parent.
      const list = await runCli("artifacts", "list", "--artifacts", artifacts);
      expect(list.stdout).toMatch(
        new RegExp(`${result.manifest.version}\\s+instruct\\s+\\S+\\s+${chunks + 1}\\s+d0c5000000000001\\s+writer`),
      );
      const listed = JSON.parse((await runCli("artifacts", "list", "--artifacts", artifacts, "--json")).stdout);
      expect(listed.map((entry: { kind?: string }) => entry.kind ?? "documents")).toEqual(["documents", "instruct"]);
      const shown = await runCli("artifacts", "show", result.manifest.version.slice(0, 8), "--artifacts", artifacts);
      expect(shown.stdout).toContain("parent        document artifact d0c5000000000001");
      expect(shown.stdout).toContain("generator     writer, prompt template instruct-v1");
      expect((await runCli("artifacts", "show", "latest", "--artifacts", artifacts)).stdout).toMatch(
        /^version\s+d0c5000000000001 \(latest\)/,
      );

      // Same input, same parameters: same content-addressed version, nothing new written.
      const again = await generateInstructDataset({
        artifactsDirectory: artifacts,
        from: "latest",
        writer,
        perChunk: 3,
        concurrency: 1,
      });
      expect(again.manifest.version).toBe(result.manifest.version);
      expect(again.created).toBe(false);
    } finally {
      await server.close();
    }
  });

  it("continues a killed run without redoing finished chunks or duplicating pairs", async () => {
    const reference = join(scratch, "reference");
    const killed = join(scratch, "killed");
    await makeDocumentArtifact(reference);
    await makeDocumentArtifact(killed);
    const answered = 3;
    const first = await startScriptedJudge((request, index) => (index < answered ? reply(request) : { kind: "hang" }));
    const args = (url: string, directory: string) => [
      "dataset",
      "instruct",
      "--from-artifact",
      "latest",
      "--llm-url",
      url,
      "--artifacts",
      directory,
      "--concurrency",
      "1",
      "--json",
    ];
    const child = spawnCli(args(first.url, killed));
    try {
      while (first.requests.length <= answered) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        if (child.child.exitCode !== null) throw new Error(`the run ended early:\n${child.output()}`);
      }
      child.child.kill("SIGKILL");
      await child.exited;
    } finally {
      await first.close();
    }
    const firstExtracts = first.requests.slice(0, answered).map((request) => request.messages.at(-1)?.content);

    const second = await startScriptedJudge(reply);
    const resumed = spawnCli(args(second.url, killed));
    const code = await resumed.exited;
    await second.close();
    expect(code, resumed.output()).toBe(0);
    const summary = JSON.parse(resumed.output().trim().split("\n").at(-1) ?? "{}");
    expect(summary.resumedChunks).toBe(answered);
    expect(second.requests).toHaveLength(summary.chunks - answered);
    for (const request of second.requests) expect(firstExtracts).not.toContain(request.messages.at(-1)?.content);
    expect(resumed.output()).toMatch(/instruct: \d+\/\d+ chunks \(3 from a previous run\)/);

    // An uninterrupted run over the same artifact yields the very same dataset (same version).
    const fresh = await startScriptedJudge(reply);
    try {
      const writer = createInstructionWriter({ url: fresh.url, model: "writer", timeoutMs: 10_000, retries: 0 });
      const result = await generateInstructDataset({
        artifactsDirectory: reference,
        from: "latest",
        writer,
        perChunk: 3,
        concurrency: 1,
      });
      expect(summary.version).toBe(result.manifest.version);
      expect(summary.counts.generated).toBe(result.manifest.counts.generated);
    } finally {
      await fresh.close();
    }
    await cp(join(killed, summary.version, "manifest.json"), join(scratch, "m.json"));
  });

  it("writes no dataset while chunks fail, and retries only those on the next run", async () => {
    const artifacts = join(scratch, "failing");
    await makeDocumentArtifact(artifacts);
    const failing = await startScriptedJudge((request, index) =>
      index === 2 ? { kind: "http", status: 500, body: "{}" } : reply(request),
    );
    const writer = createInstructionWriter({ url: failing.url, model: "writer", timeoutMs: 10_000, retries: 0 });
    const run = (writerToUse: typeof writer) =>
      generateInstructDataset({
        artifactsDirectory: artifacts,
        from: "latest",
        writer: writerToUse,
        perChunk: 3,
        concurrency: 1,
      });
    await expect(run(writer)).rejects.toMatchObject({
      code: "upstream_error",
      message: expect.stringMatching(
        /^1 of \d+ chunks failed \(the writer LLM answered HTTP 500.*run the same command again/i,
      ),
    });
    await failing.close();
    const healthy = await startScriptedJudge(reply);
    try {
      const result = await run(
        createInstructionWriter({ url: healthy.url, model: "writer", timeoutMs: 10_000, retries: 0 }),
      );
      expect(healthy.requests).toHaveLength(1);
      expect(result.resumedChunks).toBe(result.chunks - 1);
      expect(result.manifest.counts.generated).toBe(result.chunks * 3);
    } finally {
      await healthy.close();
    }
  });

  it("applies the filter flags to the filters and to the schema and budget sent to the writer", async () => {
    const artifacts = join(scratch, "flags");
    await makeDocumentArtifact(artifacts);
    const server = await startScriptedJudge(reply);
    try {
      const result = await runCli(
        "dataset",
        "instruct",
        "--llm-url",
        server.url,
        "--artifacts",
        artifacts,
        "--per-chunk",
        "3",
        "--max-tokens",
        "77",
        "--min-instruction-chars",
        "20",
        "--max-instruction-chars",
        "60",
        "--near-duplicate-threshold",
        "1",
        "--no-progress",
        "--json",
      );
      expect(result.stderr).toBe("");
      const summary = JSON.parse(result.stdout);
      expect(server.requests[0]?.maxTokens).toBe(77);
      expect(server.requests[0]?.responseFormat).toMatchObject({
        json_schema: { schema: { properties: { instructions: { items: { minLength: 20, maxLength: 60 } } } } },
      });
      // Threshold 1: the near duplicate ("Please write ...") is no longer dropped.
      expect(summary.counts).toMatchObject({ nearDuplicates: 0, kept: summary.chunks + 2 });
    } finally {
      await server.close();
    }
    const wrong = await runCli(
      "dataset",
      "instruct",
      "--llm-url",
      "http://127.0.0.1:9",
      "--artifacts",
      artifacts,
      "--min-instruction-chars",
      "50",
      "--max-instruction-chars",
      "40",
    );
    expect(wrong.stderr).toMatch(
      /--max-instruction-chars \(40\) is below --min-instruction-chars \(50\) \[configuration_error\]\n$/,
    );
    const threshold = await runCli(
      "dataset",
      "instruct",
      "--llm-url",
      "http://127.0.0.1:9",
      "--artifacts",
      artifacts,
      "--near-duplicate-threshold",
      "0",
    );
    expect(threshold.stderr).toMatch(
      /--near-duplicate-threshold \(LLM_TWIN_NEAR_DUPLICATE_THRESHOLD\): must be above 0 and at most 1 \(got "0"\) \[configuration_error\]\n$/,
    );
  });
});
