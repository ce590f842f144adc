/**
 * Chunking per data category (an exhaustive handler per category). Every chunk satisfies
 * countTokens(chunk.text) <= tokenizer.maxInputTokens: chunks over the limit are split further,
 * never truncated.
 */
import type { Chunk, CleanedDocument, DataCategory } from "../../domain/index.js";
import { AppError } from "../../errors/index.js";
import { type ChunkingParametersByCategory, DEFAULT_PREPROCESSING_PARAMETERS } from "../parameters.js";
import { chunkBySentences } from "./by-sentences.js";
import { chunkByTokens } from "./by-tokens.js";
import { chunkId } from "./chunk-id.js";
import { chunkRepository } from "./repositories.js";
import type { CountedText, TokenCounter } from "./token-counter.js";

type Splitter = (content: string, parameters: ChunkingParametersByCategory, tokenizer: TokenCounter) => CountedText[];

const SPLITTERS: Record<DataCategory, Splitter> = {
  articles: (content, parameters, tokenizer) =>
    chunkBySentences(content, parameters.articles, tokenizer, tokenizer.maxInputTokens),
  posts: (content, parameters, tokenizer) =>
    chunkByTokens(content, parameters.posts, tokenizer, tokenizer.maxInputTokens),
  repositories: (content, parameters, tokenizer) =>
    chunkRepository(content, parameters.repositories, tokenizer, tokenizer.maxInputTokens),
};

export function chunkDocument(
  document: CleanedDocument,
  tokenizer: TokenCounter,
  parameters: ChunkingParametersByCategory = DEFAULT_PREPROCESSING_PARAMETERS.chunking,
): Chunk[] {
  if (!Number.isInteger(tokenizer.maxInputTokens) || tokenizer.maxInputTokens < 1) {
    throw new AppError(
      "configuration_error",
      `maxInputTokens must be a positive integer, got ${tokenizer.maxInputTokens}`,
    );
  }
  const pieces = SPLITTERS[document.category](document.content, parameters, tokenizer);
  const chunks: Chunk[] = [];
  for (const piece of pieces) {
    if (piece.text === "") continue;
    const index = chunks.length;
    chunks.push({
      id: chunkId(document.id, index, piece.text),
      documentId: document.id,
      category: document.category,
      author: document.author,
      platform: document.platform,
      title: document.title,
      link: document.link,
      index,
      text: piece.text,
      tokenCount: piece.tokenCount,
    });
  }
  return chunks;
}
