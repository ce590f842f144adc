/**
 * The start-up check: the store must have been filled by this very preprocessing and embedder.
 * A store without metadata is refused with the command that fills it; a different fingerprint is
 * refused with the exact list of what differs.
 */
import type { Embedder } from "../embedding/index.js";
import { AppError } from "../errors/index.js";
import { assertFingerprintMatches, createFingerprint } from "../preprocessing/index.js";
import type { PreprocessingFingerprint, VectorStore } from "../vector-store/index.js";

export async function checkStoreFingerprint(store: VectorStore, embedder: Embedder): Promise<PreprocessingFingerprint> {
  const expected = createFingerprint(embedder);
  const metadata = await store.readMetadata();
  if (metadata === undefined) {
    throw new AppError(
      "configuration_error",
      `the store at ${store.location} is empty (no preprocessing metadata): run 'llm-twin ingest <documents> --store ${store.location}' with this service's embedder (${embedder.id}) first`,
    );
  }
  assertFingerprintMatches(metadata.fingerprint, expected, {
    location: store.location,
    advice:
      "Refusing to serve. Re-ingest with this embedder (llm-twin ingest ... --recreate) or start the service with the embedder the store was built with.",
  });
  return expected;
}
