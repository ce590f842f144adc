import { describe, expect, it } from "vitest";
import { AppError } from "../errors/index.js";
import {
  deadLetterQueueName,
  ingestionJobData,
  ingestionJobId,
  validateQueueName,
  validateQueueUrl,
} from "./config.js";

describe("queue configuration", () => {
  it("derives the same job id from the same document and source record, another from any change", () => {
    const id = ingestionJobId("articles", "https://example.com/a:b", "hash-1");
    expect(ingestionJobId("articles", "https://example.com/a:b", "hash-1")).toBe(id);
    expect(id).toMatch(/^articles-[0-9a-f]{40}$/); // BullMQ custom ids may not contain ':'
    expect(ingestionJobId("articles", "https://example.com/a:b", "hash-2")).not.toBe(id);
    expect(ingestionJobId("posts", "https://example.com/a:b", "hash-1")).not.toBe(id);
  });

  it("accepts redis:// and rediss:// URLs and names the flag when rejecting others", () => {
    expect(validateQueueUrl("redis://user:secret@localhost:6379/2")).toBe("redis://user:secret@localhost:6379/2");
    expect(validateQueueUrl("rediss://cache.example.com:6380")).toBe("rediss://cache.example.com:6380");
    for (const bad of ["http://localhost:6379", "localhost:6379", ""]) {
      expect(() => validateQueueUrl(bad)).toThrow(AppError);
      expect(() => validateQueueUrl(bad)).toThrow(/--queue, LLM_TWIN_QUEUE_URL/);
    }
  });

  it("restricts queue names to key-friendly words and derives the dead-letter queue", () => {
    expect(validateQueueName("llm-twin-ingest")).toBe("llm-twin-ingest");
    expect(() => validateQueueName("has:colon")).toThrow(/invalid queue name/);
    expect(() => validateQueueName("")).toThrow(/invalid queue name/);
    expect(deadLetterQueueName("llm-twin-ingest")).toBe("llm-twin-ingest-dead-letter");
  });

  it("validates job payloads", () => {
    const valid = {
      version: 1,
      document: { id: "a", category: "articles", title: "kept as is" },
      source: { file: "data.json", index: 0 },
      sourceHash: "h",
      storeUri: "lancedb:./store",
      embedderSpec: "static",
      fingerprint: "f",
    };
    expect(ingestionJobData.parse(valid).document).toEqual(valid.document);
    expect(ingestionJobData.safeParse({ version: 1 }).success).toBe(false);
    expect(ingestionJobData.safeParse({ ...valid, document: { id: "a", category: "videos" } }).success).toBe(false);
  });
});
