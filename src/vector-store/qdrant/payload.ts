/** Chunk fields as a Qdrant point payload, and back. */
import type { Chunk, DataCategory } from "../../domain/index.js";

export function chunkPayload(chunk: Chunk): Record<string, unknown> {
  return {
    document_id: chunk.documentId,
    category: chunk.category,
    author_id: chunk.author.id,
    author_full_name: chunk.author.fullName,
    platform: chunk.platform,
    title: chunk.title,
    link: chunk.link,
    chunk_index: chunk.index,
    text: chunk.text,
    token_count: chunk.tokenCount,
  };
}

export function payloadToChunk(id: string, payload: Record<string, unknown>, category: DataCategory): Chunk {
  const text = (key: string) => {
    const value = payload[key];
    return typeof value === "string" ? value : "";
  };
  return {
    id,
    documentId: text("document_id"),
    category,
    author: { id: text("author_id"), fullName: text("author_full_name") },
    platform: text("platform"),
    title: text("title"),
    link: text("link"),
    index: Number(payload.chunk_index ?? 0),
    text: text("text"),
    tokenCount: Number(payload.token_count ?? 0),
  };
}
