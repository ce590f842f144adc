import { createHash } from "node:crypto";
import { mkdtemp, open, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { getLlama, type Llama, LlamaChatSession, LlamaCompletion } from "node-llama-cpp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type GenerateGgufOptions, generateGguf, TINY_MODEL_PRESETS, tinyModelPath } from "./index.js";

// One thread: the machine has 2 cores shared by every test process, and llama.cpp's spinning
// threads collapse throughput when cores are oversubscribed.
const THREADS = 1;

let llama: Llama;
let scratch: string;

beforeAll(async () => {
  llama = await getLlama({ gpu: false, build: "never", maxThreads: THREADS, logLevel: "error" as never });
  scratch = await mkdtemp(join(tmpdir(), "llm-twin-gguf-"));
});

afterAll(async () => {
  await llama?.dispose();
  await rm(scratch, { recursive: true, force: true });
});

const small: GenerateGgufOptions = { ...TINY_MODEL_PRESETS.chat, vocabularySize: 400, contextLength: 256 };

async function sha256(path: string): Promise<string> {
  return createHash("sha256")
    .update(await readFile(path))
    .digest("hex");
}

describe("generateGguf", () => {
  it("writes a GGUF v3 header and is deterministic for a seed", async () => {
    const first = await generateGguf(join(scratch, "a.gguf"), small);
    const second = await generateGguf(join(scratch, "b.gguf"), small);
    const other = await generateGguf(join(scratch, "c.gguf"), { ...small, seed: 99 });
    const header = Buffer.alloc(8);
    const file = await open(first.path, "r");
    await file.read(header, 0, 8, 0);
    await file.close();
    expect(header.subarray(0, 4).toString("latin1")).toBe("GGUF");
    expect(header.readUInt32LE(4)).toBe(3);
    expect(await sha256(first.path)).toBe(await sha256(second.path));
    expect(await sha256(first.path)).not.toBe(await sha256(other.path));
    expect(first.sizeBytes).toBeGreaterThan(first.parameterCount * 4);
  });

  it("rejects inconsistent shapes", async () => {
    await expect(generateGguf(join(scratch, "bad.gguf"), { ...small, heads: 3 })).rejects.toThrow(/divisible/);
    await expect(generateGguf(join(scratch, "bad.gguf"), { ...small, vocabularySize: 100 })).rejects.toThrow(
      /vocabularySize/,
    );
  });
});

describe("tinyModelPath", () => {
  it("returns one complete file when called concurrently", async () => {
    const paths = await Promise.all([tinyModelPath("chat"), tinyModelPath("chat"), tinyModelPath("chat")]);
    expect(new Set(paths).size).toBe(1);
    expect(paths[0]).toMatch(/test-models\/chat-[0-9a-f]{12}\.gguf$/);
  });

  it("chat: loads, tokenizes words, generates, applies the ChatML template, embeds", async () => {
    const model = await llama.loadModel({ modelPath: await tinyModelPath("chat") });
    try {
      expect(model.trainContextSize).toBe(TINY_MODEL_PRESETS.chat.contextLength);
      expect(model.tokenize("hello world")).toHaveLength(2);
      expect(model.detokenize(model.tokenize("hello world"))).toBe("hello world");
      expect(model.tokenize("<|im_start|>", true)).toHaveLength(1);
      expect(model.tokens.bos).toBe(1);
      expect(model.tokens.eos).toBe(2);

      const context = await model.createContext({ contextSize: 512, threads: THREADS, sequences: 2 });
      const completion = new LlamaCompletion({ contextSequence: context.getSequence() });
      let generated = 0;
      await completion.generateCompletion("hello model", {
        maxTokens: 16,
        customStopTriggers: [],
        onToken: (tokens) => {
          generated += tokens.length;
        },
      });
      expect(generated).toBeGreaterThan(0);

      const session = new LlamaChatSession({ contextSequence: context.getSequence() });
      expect(session.chatWrapper.wrapperName).toBe("ChatML");
      const answer = await session.prompt("hello", { maxTokens: 8 });
      expect(typeof answer).toBe("string");
      await context.dispose();

      const embeddingContext = await model.createEmbeddingContext({ contextSize: 256, threads: THREADS });
      const embedding = await embeddingContext.getEmbeddingFor("hello world");
      expect(embedding.vector).toHaveLength(TINY_MODEL_PRESETS.chat.embeddingLength);
      expect(embedding.vector.some((value) => value !== 0)).toBe(true);
      await embeddingContext.dispose();
    } finally {
      await model.dispose();
    }
  }, 60_000);

  it("reranker: qwen3 with a classifier head ranks documents", async () => {
    const model = await llama.loadModel({ modelPath: await tinyModelPath("reranker") });
    try {
      const context = await model.createRankingContext({ contextSize: 512, threads: THREADS });
      const documents = ["hello world model", "vector search", "paul writes articles"];
      const scores = await context.rankAll("hello world", documents);
      expect(scores).toHaveLength(3);
      for (const score of scores) {
        expect(score).toBeGreaterThan(0);
        expect(score).toBeLessThan(1);
      }
      expect(new Set(scores).size).toBeGreaterThan(1);
      expect(await context.rank("hello world", "vector search")).toBeCloseTo(scores[1] ?? Number.NaN, 5);
      await context.dispose();
    } finally {
      await model.dispose();
    }
  }, 60_000);

  it("bench-66m: ~66M F16 parameters, loads and generates", async () => {
    const model = await llama.loadModel({ modelPath: await tinyModelPath("bench-66m") });
    try {
      const parameters = Number(model.fileInsights.totalParameters ?? 0);
      expect(model.fileInfo.metadata.general.file_type).toBe(1);
      expect(model.tokens.bos).toBe(1);
      if (parameters > 0) {
        expect(parameters).toBeGreaterThan(60e6);
        expect(parameters).toBeLessThan(72e6);
      }
      const context = await model.createContext({ contextSize: 256, threads: THREADS });
      const completion = new LlamaCompletion({ contextSequence: context.getSequence() });
      let generated = 0;
      await completion.generateCompletion("the model writes", {
        maxTokens: 4,
        onToken: (tokens) => {
          generated += tokens.length;
        },
      });
      expect(generated).toBeGreaterThan(0);
      await context.dispose();
    } finally {
      await model.dispose();
    }
  }, 180_000);
});
