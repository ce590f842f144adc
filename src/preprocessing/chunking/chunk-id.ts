import { createHash } from "node:crypto";

/**
 * Deterministic, UUID-shaped chunk id (version nibble 8: "custom", RFC 9562) derived from
 * sha256(document id, chunk index, chunk text). Same document, position and text → same id, so
 * re-ingesting unchanged input rewrites nothing; Qdrant accepts it as a point id.
 */
export function chunkId(documentId: string, index: number, text: string): string {
  const digest = createHash("sha256")
    .update(documentId)
    .update("\u0000")
    .update(String(index))
    .update("\u0000")
    .update(text)
    .digest();
  const bytes = digest.subarray(0, 16);
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x80;
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80;
  const hex = bytes.toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}
