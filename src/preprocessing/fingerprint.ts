/**
 * The preprocessing fingerprint stored with a collection: preprocessing version, every cleaning
 * and chunking parameter, and the embedder's identity. A store built with another fingerprint
 * must not be mixed with (or served by) this one.
 */

import type { PreprocessingFingerprint } from "../domain/index.js";
import { AppError } from "../errors/index.js";
import { canonicalJson, sha256Hex } from "./canonical-json.js";
import { DEFAULT_PREPROCESSING_PARAMETERS, PREPROCESSING_VERSION, type PreprocessingParameters } from "./parameters.js";

export type EmbedderIdentity = { id: string; dimensions: number; maxInputTokens: number };

export function createFingerprint(
  embedder: EmbedderIdentity,
  parameters: PreprocessingParameters = DEFAULT_PREPROCESSING_PARAMETERS,
): PreprocessingFingerprint {
  const body = {
    preprocessingVersion: PREPROCESSING_VERSION,
    embedder: { id: embedder.id, dimensions: embedder.dimensions, maxInputTokens: embedder.maxInputTokens },
    parameters: JSON.parse(canonicalJson(parameters)) as Record<string, unknown>,
  };
  return { hash: sha256Hex(canonicalJson(body)), ...body };
}

/** True when both fingerprints describe the same preprocessing and embedder. */
export function fingerprintsMatch(stored: PreprocessingFingerprint, current: PreprocessingFingerprint): boolean {
  return describeFingerprintDifferences(stored, current).length === 0;
}

/**
 * Human-readable differences, one line each, e.g. `embedder.id: static:wink-100d → gguf:bge-small`.
 * Empty when they match. The hash itself is not compared (it follows from the fields).
 */
export function describeFingerprintDifferences(
  stored: PreprocessingFingerprint,
  current: PreprocessingFingerprint,
): string[] {
  const { hash: _storedHash, ...storedBody } = stored;
  const { hash: _currentHash, ...currentBody } = current;
  const left = flatten(storedBody);
  const right = flatten(currentBody);
  const keys = [...new Set([...left.keys(), ...right.keys()])].sort();
  const lines: string[] = [];
  for (const key of keys) {
    const before = left.get(key);
    const after = right.get(key);
    if (before === after) continue;
    lines.push(`${key}: ${before ?? "(absent)"} → ${after ?? "(absent)"}`);
  }
  return lines;
}

function flatten(value: unknown, prefix = "", into = new Map<string, string>()): Map<string, string> {
  if (value !== null && typeof value === "object" && !Array.isArray(value)) {
    for (const [key, member] of Object.entries(value as Record<string, unknown>)) {
      if (member === undefined) continue;
      flatten(member, prefix === "" ? key : `${prefix}.${key}`, into);
    }
    return into;
  }
  into.set(prefix, typeof value === "string" ? value : JSON.stringify(value));
  return into;
}

/**
 * Throws `fingerprint_mismatch` when a store (`location`) was built with another fingerprint than
 * `current`, listing each difference (stored → current), then `advice` on what to do about it.
 */
export function assertFingerprintMatches(
  stored: PreprocessingFingerprint,
  current: PreprocessingFingerprint,
  context: { location: string; advice: string },
): void {
  const differences = describeFingerprintDifferences(stored, current);
  if (differences.length === 0 && stored.hash === current.hash) return;
  throw new AppError(
    "fingerprint_mismatch",
    `the store ${context.location} was built with other preprocessing or another embedder (stored → current):\n  ${differences.join("\n  ") || "(hash only)"}\n${context.advice}`,
    { details: { differences } },
  );
}
