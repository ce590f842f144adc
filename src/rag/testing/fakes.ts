/**
 * Small in-memory stand-ins for the ports, for the RAG unit and HTTP tests. Deterministic and
 * observable (calls and signals are recorded); no model, no disk.
 */
import type { Author, Chunk, DataCategory } from "../../domain/index.js";
import type { Embedder } from "../../embedding/index.js";
import type { GenerateRequest, GenerateResult, LanguageModel, StreamPart } from "../../llm/index.js";
import type { SearchHit, SearchRequest, StoreMetadata, VectorStore } from "../../vector-store/index.js";

const DIMENSIONS = 64;

function wordsOf(text: string): string[] {
  return text.toLowerCase().match(/[a-z0-9]+/g) ?? [];
}

function hashWord(word: string): number {
  let hash = 2166136261;
  for (let index = 0; index < word.length; index += 1) hash = Math.imul(hash ^ word.charCodeAt(index), 16777619);
  return (hash >>> 0) % DIMENSIONS;
}

export function fakeEmbedder(): Embedder & { calls: string[][] } {
  const calls: string[][] = [];
  return {
    id: "fake:bag-of-words",
    dimensions: DIMENSIONS,
    maxInputTokens: 512,
    maxBatchSize: 64,
    calls,
    countTokens: (text) => wordsOf(text).length,
    async embed(texts) {
      calls.push([...texts]);
      return texts.map((text) => {
        const vector = new Float32Array(DIMENSIONS);
        for (const word of wordsOf(text)) vector[hashWord(word)] = (vector[hashWord(word)] ?? 0) + 1;
        const norm = Math.hypot(...vector) || 1;
        return vector.map((value) => value / norm);
      });
    },
    async [Symbol.asyncDispose]() {},
  };
}

export const PAUL: Author = { id: "author-paul", fullName: "Paul Iusztin" };
export const MAXIME: Author = { id: "author-maxime", fullName: "Maxime Labonne" };
export const ZOE: Author = { id: "author-zoe", fullName: "Zoé Ândrade" };

export function makeChunk(id: string, author: Author, category: DataCategory, text: string): Chunk {
  return {
    id,
    documentId: `doc-${id}`,
    category,
    author,
    platform: "test",
    title: `Title of ${id}`,
    link: `https://example.com/${id}`,
    index: 0,
    text,
    tokenCount: wordsOf(text).length,
  };
}

export function sampleChunks(): Chunk[] {
  return [
    makeChunk(
      "c1",
      PAUL,
      "articles",
      "Retrieval augmented generation systems combine search with LLMs. RAG pipelines need good chunking.",
    ),
    makeChunk("c2", PAUL, "posts", "Feature pipelines and vector databases for RAG. Qdrant stores the embeddings."),
    makeChunk("c3", MAXIME, "articles", "Fine-tuning LLMs with LoRA and quantization. Merging models is fun."),
    makeChunk("c4", MAXIME, "repositories", "A repository about model merging and RAG evaluation with LLMs."),
    makeChunk("c5", ZOE, "posts", "Cooking pasta is an art. Tomatoes and basil."),
  ];
}

export type FakeStore = VectorStore & { searches: SearchRequest[]; failWith?: unknown; delayMs: number };

export function fakeStore(chunks: readonly Chunk[], embedder: Embedder, metadata?: StoreMetadata): FakeStore {
  const vectors = new Map<string, Float32Array>();
  let vectorsReady: Promise<void> | undefined;
  const ready = () => {
    vectorsReady ??= embedder.embed(chunks.map((chunk) => chunk.text)).then((list) => {
      list.forEach((vector, index) => {
        const chunk = chunks[index];
        if (chunk !== undefined) vectors.set(chunk.id, vector);
      });
    });
    return vectorsReady;
  };
  const store: FakeStore = {
    kind: "fake",
    location: "fake:memory",
    supportsLexical: true,
    searches: [],
    delayMs: 0,
    async readMetadata() {
      if (store.failWith !== undefined) throw store.failWith;
      return metadata;
    },
    async writeMetadata() {},
    async ensureCollections() {},
    async drop() {},
    async startRebuild() {
      return { store, async publish() {}, async discard() {} };
    },
    async check() {
      if (store.failWith !== undefined) throw store.failWith;
    },
    async upsert() {},
    async chunkIdsByDocument() {
      return new Map();
    },
    async deleteChunks() {},
    async deleteDocument() {},
    async search(request) {
      store.searches.push(request);
      if (store.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, store.delayMs));
      if (store.failWith !== undefined) throw store.failWith;
      await ready();
      const queryWords = new Set(wordsOf(request.text ?? ""));
      const hits: SearchHit[] = [];
      for (const chunk of chunks) {
        if (chunk.category !== request.category) continue;
        if (request.filter?.authorId !== undefined && chunk.author.id !== request.filter.authorId) continue;
        let score: number;
        if (request.mode === "lexical") {
          score = wordsOf(chunk.text).filter((word) => queryWords.has(word)).length;
          if (score === 0) continue;
        } else {
          const vector = vectors.get(chunk.id);
          score = 0;
          if (vector !== undefined && request.vector !== undefined) {
            for (let index = 0; index < vector.length; index += 1)
              score += (vector[index] ?? 0) * (request.vector[index] ?? 0);
          }
        }
        hits.push({ chunk, score });
      }
      return hits.sort((left, right) => right.score - left.score).slice(0, request.limit);
    },
    async listAuthors() {
      if (store.failWith !== undefined) throw store.failWith;
      const byId = new Map(chunks.map((chunk) => [chunk.author.id, chunk.author]));
      return [...byId.values()];
    },
    async count(category) {
      return chunks.filter((chunk) => category === undefined || chunk.category === category).length;
    },
    async optimize() {},
    async [Symbol.asyncDispose]() {},
  };
  return store;
}

export type FakeLanguageModel = LanguageModel & {
  requests: GenerateRequest[];
  /** Signals of every stream/generate call, to check cancellation. */
  signals: AbortSignal[];
  healthy: boolean;
  /** Text `generate` answers with (by prompt prefix), else `defaultText`. */
  replies: { match: RegExp; text: string }[];
  defaultText: string;
  streamTokens: string[];
  /** Delay before each streamed token. */
  tokenDelayMs: number;
  failWith?: unknown;
  /** Throw after this many streamed tokens. */
  failAfterTokens?: number;
  aborted: number;
};

function promptOf(request: GenerateRequest): string {
  return "prompt" in request ? request.prompt : request.messages.map((message) => message.content).join("\n");
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      "abort",
      () => {
        clearTimeout(timer);
        reject(signal.reason);
      },
      { once: true },
    );
  });
}

export function fakeLanguageModel(): FakeLanguageModel {
  const model: FakeLanguageModel = {
    id: "fake-llm",
    requests: [],
    signals: [],
    healthy: true,
    replies: [],
    defaultText: "",
    streamTokens: ["Hello", " from", " the", " twin", "."],
    tokenDelayMs: 0,
    aborted: 0,
    async generate(request): Promise<GenerateResult> {
      model.requests.push(request);
      if (request.signal !== undefined) model.signals.push(request.signal);
      if (model.failWith !== undefined) throw model.failWith;
      const prompt = promptOf(request);
      const text = model.replies.find((reply) => reply.match.test(prompt))?.text ?? model.defaultText;
      return { text, finishReason: "eos", usage: { promptTokens: prompt.length, completionTokens: text.length } };
    },
    async *stream(request): AsyncGenerator<StreamPart> {
      model.requests.push(request);
      const signal = request.signal;
      if (signal !== undefined) {
        model.signals.push(signal);
        signal.addEventListener("abort", () => (model.aborted += 1), { once: true });
      }
      if (model.failWith !== undefined) throw model.failWith;
      let count = 0;
      for (const token of model.streamTokens) {
        if (model.tokenDelayMs > 0) await sleep(model.tokenDelayMs, signal);
        if (signal?.aborted) throw signal.reason;
        if (model.failAfterTokens !== undefined && count >= model.failAfterTokens) {
          throw Object.assign(new Error("upstream exploded with a secret body"), { code: "ECONNRESET" });
        }
        count += 1;
        yield { type: "token", text: token };
      }
      yield {
        type: "done",
        finishReason: "eos",
        usage: { promptTokens: promptOf(request).length, completionTokens: count },
      };
    },
    async health() {
      return model.healthy;
    },
    async [Symbol.asyncDispose]() {},
  };
  return model;
}
