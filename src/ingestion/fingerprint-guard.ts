/**
 * Before anything is written, the store's fingerprint must equal the one this run would write:
 * chunks embedded by another model, or cut by other preprocessing, must never be mixed. A fresh
 * store gets the fingerprint before its first chunk; `recreate` drops everything first.
 */
import { AppError } from "../errors/index.js";
import { assertFingerprintMatches } from "../preprocessing/index.js";
import type { PreprocessingFingerprint, StoreMetadata, VectorStore } from "../vector-store/index.js";

export type PreparedStore = { metadata: StoreMetadata; recreated: boolean; created: boolean };

export async function prepareStore(
  store: VectorStore,
  fingerprint: PreprocessingFingerprint,
  options: { recreate: boolean; now?: () => Date },
): Promise<PreparedStore> {
  const now = (options.now ?? (() => new Date()))().toISOString();
  const existing = await store.readMetadata();
  if (options.recreate) {
    await store.drop();
  } else if (existing !== undefined) {
    assertFingerprintMatches(existing.fingerprint, fingerprint, {
      location: store.location,
      advice: "re-run with --recreate to rebuild it from scratch",
    });
    await store.ensureCollections(fingerprint.embedder.dimensions);
    return { metadata: existing, recreated: false, created: false };
  } else if ((await store.count()) > 0) {
    throw new AppError(
      "fingerprint_mismatch",
      `the store ${store.location} holds chunks but no preprocessing fingerprint; re-run with --recreate to rebuild it`,
    );
  }
  await store.ensureCollections(fingerprint.embedder.dimensions);
  const metadata: StoreMetadata = { fingerprint, createdAt: now, updatedAt: now };
  await store.writeMetadata(metadata);
  return { metadata, recreated: options.recreate, created: true };
}
