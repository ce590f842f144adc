/** Upsert batches bounded by point count and by request bytes (Qdrant refuses bodies over its max_request_size_mb). */
import { AppError } from "../../errors/app-error.js";

/** Room for `{"points":[...]}` and separators. */
const ENVELOPE_BYTES = 64;

export function splitByBytes<T>(points: readonly T[], maxPoints: number, maxBytes: number): T[][] {
  const batches: T[][] = [];
  let batch: T[] = [];
  let bytes = ENVELOPE_BYTES;
  for (const point of points) {
    const size = Buffer.byteLength(JSON.stringify(point)) + 1;
    if (size + ENVELOPE_BYTES > maxBytes) {
      throw new AppError(
        "payload_too_large",
        `One point needs ${size} bytes of JSON, more than the Qdrant request limit of ${maxBytes} bytes: raise LLM_TWIN_QDRANT_MAX_REQUEST_BYTES (and the server's service.max_request_size_mb).`,
        { retryable: false, details: { bytes: size, maxRequestBytes: maxBytes } },
      );
    }
    if (batch.length > 0 && (batch.length >= maxPoints || bytes + size > maxBytes)) {
      batches.push(batch);
      batch = [];
      bytes = ENVELOPE_BYTES;
    }
    batch.push(point);
    bytes += size;
  }
  if (batch.length > 0) batches.push(batch);
  return batches;
}
