/** What the model registry records: one entry per registered file, versions monotonic per name. */

export const REGISTRY_FORMAT_VERSION = 1;
/** The index of every entry, at the root of the registry (a folder or an S3 prefix). */
export const REGISTRY_INDEX_KEY = "registry.json";
export const MODEL_KINDS = ["base", "adapter"] as const;
export type ModelKind = (typeof MODEL_KINDS)[number];
export const MODEL_STAGES = ["staging", "production"] as const;
export type ModelStage = (typeof MODEL_STAGES)[number];

/** Where the entry's bytes are: copied into the registry (a storage key) or referenced in place. */
export type ModelFile =
  | { storage: "copied"; key: string; fileName: string }
  | { storage: "linked"; path: string; fileName: string };

export type ModelEntry = {
  name: string;
  /** 1, 2, 3... per name; never reused, even after a removal. */
  version: number;
  kind: ModelKind;
  sha256: string;
  size: number;
  file: ModelFile;
  /** For adapters: the base model entry they apply to, as `name@version`. */
  base: string | null;
  /** The author the model belongs to (an author id or full name); null for shared models. */
  author: string | null;
  /** The dataset artifact version the model was trained on. */
  trainedOn: string | null;
  stages: ModelStage[];
  metadata: Record<string, unknown>;
  registeredAt: string;
};

export type RegistryIndex = {
  formatVersion: number;
  /** Highest version ever given per name (so versions stay monotonic after removals). */
  lastVersion: Record<string, number>;
  entries: ModelEntry[];
};

export function emptyIndex(): RegistryIndex {
  return { formatVersion: REGISTRY_FORMAT_VERSION, lastVersion: {}, entries: [] };
}
