/**
 * Generations of a store: re-indexing (`ingest --recreate`) writes a new set of collections named
 * `<name>_<generation>` beside the live ones and then switches readers to them in one step.
 * Stores written before generations existed use the bare names (generation undefined).
 */
import { randomBytes } from "node:crypto";
import type { DataCategory } from "../domain/index.js";
import { ALL_CATEGORIES, collectionName } from "./collections.js";

/** A new generation id: UTC time to the second plus 4 random hex digits, e.g. `g20261206t025000_3fa9`. */
export function newGeneration(now: Date = new Date()): string {
  const stamp = now
    .toISOString()
    .replace(/\.\d+Z$/, "")
    .replace(/[-:]/g, "")
    .toLowerCase();
  return `g${stamp}_${randomBytes(2).toString("hex")}`;
}

/** The versioned name of a collection (the bare name for generation undefined). */
export function versionedName(name: string, generation: string | undefined): string {
  return generation === undefined ? name : `${name}_${generation}`;
}

export function categoryCollection(category: DataCategory, generation: string | undefined): string {
  return versionedName(collectionName(category), generation);
}

/** The category collections of every generation (and the bare names) among `names`. */
export function categoryCollectionsAmong(names: readonly string[]): string[] {
  const bare = ALL_CATEGORIES.map(collectionName);
  return names.filter((name) => bare.some((prefix) => name === prefix || name.startsWith(`${prefix}_g`)));
}
