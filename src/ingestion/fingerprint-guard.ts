/**
 * Before anything is written, the store's fingerprint must equal the one this run would write:
 * chunks embedded by another model, or cut by other preprocessing, must never be mixed. A fresh
 * store gets the fingerprint before its first chunk; `recreate` drops everything first, and
 * `prepareRebuild` (what `ingest --recreate` uses) builds a new store beside the live one instead.
 */
import { AppError } from "../errors/index.js";
import { assertFingerprintMatches } from "../preprocessing/index.js";
import type { PreprocessingFingerprint, StoreMetadata, StoreRebuild, VectorStore } from "../vector-store/index.js";

export type PreparedStore = {
  metadata: StoreMetadata;
  recreated: boolean;
  created: boolean;
  /** Where to write: the store itself, or the rebuild's new store. */
  store: VectorStore;
  /** Set by prepareRebuild: publish it once everything is written, discard it on failure. */
  rebuild?: StoreRebuild;
};

/**
 * A rebuild beside the live store: the new collections get this run's fingerprint (whatever the
 * live store holds, which keeps serving until the rebuild is published).
 */
export async function prepareRebuild(
  store: VectorStore,
  fingerprint: PreprocessingFingerprint,
  options: { now?: () => Date } = {},
): Promise<PreparedStore> {
  const now = (options.now ?? (() => new Date()))().toISOString();
  const rebuild = await store.startRebuild();
  const metadata: StoreMetadata = { fingerprint, createdAt: now, updatedAt: now };
  try {
    await rebuild.store.ensureCollections(fingerprint.embedder.dimensions);
    await rebuild.store.writeMetadata(metadata);
  } catch (error) {
    await rebuild.discard().catch(() => undefined);
    throw error;
  }
  return { metadata, recreated: true, created: true, store: rebuild.store, rebuild };
}

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
    return { metadata: existing, recreated: false, created: false, store };
  } else if ((await store.count()) > 0) {
    throw new AppError(
      "fingerprint_mismatch",
      `the store ${store.location} holds chunks but no preprocessing fingerprint; re-run with --recreate to rebuild it`,
    );
  }
  await store.ensureCollections(fingerprint.embedder.dimensions);
  const metadata: StoreMetadata = { fingerprint, createdAt: now, updatedAt: now };
  await store.writeMetadata(metadata);
  return { metadata, recreated: options.recreate, created: true, store };
}
