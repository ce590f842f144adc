/**
 * `llm-twin dataset instruct` with the project's own LLM service as the writer: a real serve-llm
 * app on the generated tiny chat model, over loopback HTTP. The weights are random, so the text is
 * gibberish, but the JSON-schema grammar makes every reply one complete, parseable object with the
 * number and length of instructions asked: every chunk yields its instruction and the filters see
 * them all.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateInstructDataset } from "../../src/datasets/index.js";
import { createInstructionWriter } from "../../src/datasets/instruct-writer.js";
import { startTestService, type TestService } from "../llm-server/helpers.js";
import { makeDocumentArtifact } from "./document-artifact.js";

describe("dataset instruct against serve-llm", () => {
  let scratch: string;
  let service: TestService;
  let url: string;
  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), "llm-twin-instruct-llm-"));
    service = await startTestService();
    url = await service.app.listen({ host: "127.0.0.1", port: 0 });
  }, 60_000);
  afterAll(async () => {
    await service?.close();
    await rm(scratch, { recursive: true, force: true });
  });

  it("writes one schema-conformant instruction per chunk through the OpenAI chat API", async () => {
    await makeDocumentArtifact(scratch);
    const served = createInstructionWriter({
      url,
      model: "tiny-chat",
      timeoutMs: 60_000,
      retries: 0,
      maxTokens: 120,
      instructionChars: { min: 15, max: 40 },
    });
    // What the service returned, before the filters trim it.
    const raw: string[] = [];
    const writer = {
      ...served,
      write: async (...args: Parameters<typeof served.write>) => {
        const instructions = await served.write(...args);
        raw.push(...instructions);
        return instructions;
      },
    };
    const result = await generateInstructDataset({
      artifactsDirectory: scratch,
      from: "latest",
      writer,
      perChunk: 1,
      concurrency: 2,
      filters: {
        minInstructionChars: 15,
        maxInstructionChars: 40,
        minOutputChars: 0,
        nearDuplicateThreshold: 0.8,
        testFraction: 0,
      },
    });
    const { counts } = result.manifest;
    expect(result.failedChunks).toBe(0);
    expect(counts.generated).toBe(result.chunks);
    // Every instruction is within the schema's bounds (JSON Schema counts code points)...
    expect(raw).toHaveLength(result.chunks);
    for (const instruction of raw) {
      expect([...instruction].length, instruction).toBeGreaterThanOrEqual(15);
      expect([...instruction].length, instruction).toBeLessThanOrEqual(40);
    }
    // ...so the length filter drops only those that whitespace at their ends (which it trims) or
    // characters outside the BMP (two UTF-16 units each) took out of its bounds.
    const outOfBounds = raw.filter((instruction) => {
      const length = instruction.trim().length;
      return length < 15 || length > 40;
    });
    expect(counts.tooShortOrLong).toBe(outOfBounds.length);
    expect(
      (counts.lowQuality ?? 0) + (counts.exactDuplicates ?? 0) + (counts.nearDuplicates ?? 0) + (counts.kept ?? 0),
    ).toBe(counts.generated);
    expect(result.manifest.generator).toMatchObject({
      model: "tiny-chat",
      parameters: { perChunk: 1, writer: { maxTokens: 120 } },
    });
  }, 120_000);
});
