/**
 * The RAG service's request, response and streaming shapes. Field names are the public API
 * (issue 4): keep them exactly as they are.
 */
import type { z } from "zod";
import type { Author, DataCategory } from "../domain/index.js";
import type { AppError, ErrorCode } from "../errors/index.js";
import type { FinishReason, Usage } from "../llm/index.js";
import type { ServedModelRef } from "./adapter-routing.js";
import type { ragRequestSchema } from "./request-schema.js";

export type SelfQueryMode = "match" | "llm" | "off";

/** One earlier turn of the conversation; the client holds the conversation (stateless service). */
export type HistoryTurn = { role: "user" | "assistant"; content: string };

/** The request of `POST /rag` and `POST /retrieve`: the type of its zod schema (./request-schema.ts). */
export type RagRequest = z.output<typeof ragRequestSchema>;

export type RagSource = {
  /** Chunk id. */
  id: string;
  documentId: string;
  title: string;
  link: string;
  author: Author;
  category: DataCategory;
  score: number;
  text: string;
};

export type RagTimings = {
  selfQueryMs: number;
  expansionMs: number;
  embeddingMs: number;
  searchMs: number;
  rerankMs: number;
  generationMs: number;
  totalMs: number;
  /** With a reranker: "model" when it ranked, "fallback" when it failed or timed out (fusion order kept). */
  rerank?: "model" | "fallback";
};

export type RetrievalResult = {
  sources: RagSource[];
  /** The author the search was filtered by, and how it was found. */
  author: Author | undefined;
  /** "history": carried over from the most recent earlier user turn that names an author. */
  authorSource: "request" | "match" | "llm" | "history" | "none";
  /** The question retrieval searched: the request's, or its condensed standalone rewrite with history. */
  standaloneQuery: string;
  /** The queries searched: the original first, then the expansions. */
  queries: string[];
  timings: RagTimings;
  /** True when RetrieveOptions.intercept stopped retrieval before the search (an answer-cache hit). */
  intercepted?: true;
};

export type RagResponse = {
  answer: string;
  sources: RagSource[];
  usage: Usage;
  timings: RagTimings;
  /** Earlier turns that fit in the generation prompt (the most recent ones). */
  historyTurnsUsed: number;
  /** The model (registry name and version when served from the registry) and the author's adapter, if any. */
  model: ServedModelRef;
  /** Present (true) when the answer came from the answer cache. */
  cached?: true;
  /** With `cached`: how old the cached answer is, in milliseconds. */
  cacheAgeMs?: number;
};

export type RetrieveResponse = {
  sources: RagSource[];
  timings: RagTimings;
};

/** The answer as a typed stream; it becomes SSE only at the HTTP edge. */
export type RagPart =
  | { type: "sources"; sources: RagSource[]; author: Author | null; queries: string[] }
  | { type: "token"; text: string }
  | {
      type: "done";
      answer: string;
      finishReason: FinishReason;
      usage: Usage;
      timings: RagTimings;
      historyTurnsUsed: number;
      model: ServedModelRef;
      /** An answer-cache hit: the entry's age and its question's similarity to this one. */
      cached?: { ageMs: number; similarity: number };
    }
  | {
      type: "error";
      code: ErrorCode;
      message: string;
      /** The failure behind it, with its details and log-only context (for logs; never sent as such). */
      cause?: AppError;
    };

export function emptyTimings(): RagTimings {
  return { selfQueryMs: 0, expansionMs: 0, embeddingMs: 0, searchMs: 0, rerankMs: 0, generationMs: 0, totalMs: 0 };
}
