/**
 * Shared set-up of the RAG end-to-end tests: the real LLM Twin corpus ingested once per test file
 * into a temporary LanceDB store with the static embedder, and small HTTP/SSE helpers.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createEmbedder, type Embedder } from "../../src/embedding/index.js";
import { ingest } from "../../src/ingestion/index.js";
import type { GenerateRequest, LanguageModel, StreamPart } from "../../src/llm/index.js";
import { requireSharedDataset } from "../../src/testing/shared-datasets.js";
import { openVectorStore, type VectorStore } from "../../src/vector-store/index.js";

export const ARTICLES = requireSharedDataset("llm-twin", "articles.json");

export type IngestedCorpus = {
  directory: string;
  storeUri: string;
  store: VectorStore;
  embedder: Embedder;
  chunks: number;
  cleanup(): Promise<void>;
};

export async function ingestCorpus(source: string): Promise<IngestedCorpus> {
  const directory = await mkdtemp(join(tmpdir(), "llm-twin-rag-"));
  const storeUri = `lancedb:${join(directory, "store")}`;
  const store = await openVectorStore(storeUri);
  const embedder = await createEmbedder("static");
  const summary = await ingest({ source, store, embedder });
  return {
    directory,
    storeUri,
    store,
    embedder,
    chunks: summary.chunksWritten,
    async cleanup() {
      await store[Symbol.asyncDispose]();
      await embedder[Symbol.asyncDispose]();
      await rm(directory, { recursive: true, force: true });
    },
  };
}

export type SseEvent = { event: string; data: Record<string, unknown> };

/** Splits an SSE body into events, checking the framing (`event:` line, one `data:` line, blank line). */
export function parseSseStrict(body: string): SseEvent[] {
  if (!body.endsWith("\n\n")) throw new Error("the SSE body does not end with a blank line");
  return body
    .slice(0, -2)
    .split("\n\n")
    .map((frame) => {
      const lines = frame.split("\n");
      if (lines.length !== 2 || !lines[0]?.startsWith("event: ") || !lines[1]?.startsWith("data: ")) {
        throw new Error(`malformed SSE frame: ${JSON.stringify(frame)}`);
      }
      return { event: lines[0].slice(7), data: JSON.parse(lines[1].slice(6)) as Record<string, unknown> };
    });
}

/** Wraps a LanguageModel to record what it was asked and whether its streams saw an abort. */
export function spyLanguageModel(inner: LanguageModel, options: { tokenDelayMs?: number } = {}) {
  // ended: "done" (ran to the end), "error" (threw), "closed" (its consumer stopped early), or still "running".
  const streams: { signal: AbortSignal | undefined; tokens: number; ended: "done" | "error" | "closed" | "running" }[] =
    [];
  const model: LanguageModel = {
    id: inner.id,
    generate: (request: GenerateRequest) => inner.generate(request),
    async *stream(request: GenerateRequest): AsyncGenerator<StreamPart> {
      const record = { signal: request.signal, tokens: 0, ended: "running" as "done" | "error" | "closed" | "running" };
      streams.push(record);
      try {
        for await (const part of inner.stream(request)) {
          if (part.type === "token") {
            record.tokens += 1;
            if (options.tokenDelayMs !== undefined)
              await new Promise((resolve) => setTimeout(resolve, options.tokenDelayMs));
          }
          yield part;
        }
        record.ended = "done";
      } catch (error) {
        record.ended = "error";
        throw error;
      } finally {
        if (record.ended === "running") record.ended = "closed";
      }
    },
    health: (healthOptions) => inner.health(healthOptions),
    [Symbol.asyncDispose]: () => inner[Symbol.asyncDispose](),
  };
  return { model, streams };
}
