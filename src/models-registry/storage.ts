/**
 * Where a registry lives. A small port over keys (paths relative to the registry root) with two
 * adapters: a local folder (./local-storage.ts) and an S3 prefix (./s3-storage.ts). The index is
 * changed only through `update`, which each adapter makes atomic against concurrent writers.
 */

export type RegistryStorage = {
  /** The folder or `s3://bucket/prefix`, for messages. */
  readonly location: string;
  readText(key: string): Promise<string | undefined>;
  /**
   * Reads the text at `key` (undefined when absent), computes the next text and writes it so that
   * a crash leaves the old or the new text, never a torn one, and a concurrent update is not lost.
   */
  update(key: string, next: (current: string | undefined) => string): Promise<void>;
  /** Stores a copy of a local file under `key`. */
  putFile(key: string, sourcePath: string): Promise<void>;
  /** A local path holding the bytes of `key` (the file itself, or a cached download). */
  localPath(key: string): Promise<string>;
  remove(key: string): Promise<void>;
};
