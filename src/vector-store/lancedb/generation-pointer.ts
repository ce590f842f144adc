/**
 * The generation pointer of a LanceDB store: its metadata file names the live generation. A live
 * handle looks at it before each call (one stat(), at most every `intervalMs`), so it follows a
 * rebuild published by another process, and notices any new metadata file (an ingest finished,
 * the folder replaced).
 */
import { stat } from "node:fs/promises";
import { readMetadataDocument } from "../metadata-file.js";

export type PointerLook = {
  /** The generation the file names now (undefined: the bare table names). */
  generation: string | undefined;
  /** The file is not the one seen last time (false on the first look and after forget()). */
  changed: boolean;
};

export class GenerationPointer {
  readonly #path: string;
  readonly #intervalMs: number;
  /** Identity of the file last read: inode, size, mtime ("none": no file). */
  #stamp: string | undefined;
  #checkedAt = 0;

  constructor(path: string, intervalMs: number) {
    this.#path = path;
    this.#intervalMs = intervalMs;
  }

  /** undefined when nothing needs doing (checked recently, or the same file as last time). */
  async look(): Promise<PointerLook | undefined> {
    const now = Date.now();
    if (this.#stamp !== undefined && now - this.#checkedAt < this.#intervalMs) return undefined;
    this.#checkedAt = now;
    let stamp = "none";
    try {
      const info = await stat(this.#path);
      stamp = `${info.ino}:${info.size}:${info.mtimeMs}`;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    }
    if (stamp === this.#stamp) return undefined;
    const generation = stamp === "none" ? undefined : (await readMetadataDocument(this.#path))?.generation;
    const changed = this.#stamp !== undefined && this.#stamp !== "none";
    this.#stamp = stamp;
    return { generation, changed };
  }

  /** The next look reads the file again. */
  forget(): void {
    this.#stamp = undefined;
  }
}
