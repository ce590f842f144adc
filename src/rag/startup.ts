/**
 * The start-up check: the store must have been filled by this very preprocessing and embedder.
 * A store without metadata is refused with the command that fills it; a different fingerprint is
 * refused with the exact list of what differs.
 */
import type { Embedder } from "../embedding/index.js";
import { AppError } from "../errors/index.js";
import { createFingerprint, describeFingerprintDifferences } from "../preprocessing/index.js";
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
  const differences = describeFingerprintDifferences(metadata.fingerprint, expected);
  if (differences.length > 0 || metadata.fingerprint.hash !== expected.hash) {
    throw new AppError(
      "fingerprint_mismatch",
      `the store at ${store.location} was built with a different preprocessing or embedder than this service uses; refusing to serve. What differs (store → service):\n  ${differences.join("\n  ") || "(hash only)"}\nRe-ingest with this embedder (llm-twin ingest ... --recreate) or start the service with the embedder the store was built with.`,
      { details: { differences } },
    );
  }
  return expected;
}
