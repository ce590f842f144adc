/**
 * SHA-256 of a model file, remembered in `<cacheDir>/model-hashes.json` by path, size and mtime so
 * that a multi-gigabyte model is hashed once, not at every start-up.
 */

import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdir, readFile, rename, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";

type Remembered = Record<string, { size: number; modifiedMs: number; sha256: string }>;

async function hashFile(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

export async function modelFileSha256(path: string, cacheDir: string | undefined): Promise<string> {
  const info = await stat(path);
  const memoPath = cacheDir === undefined ? undefined : join(cacheDir, "model-hashes.json");
  let remembered: Remembered = {};
  if (memoPath !== undefined) {
    try {
      remembered = JSON.parse(await readFile(memoPath, "utf8")) as Remembered;
    } catch {
      remembered = {};
    }
    const entry = remembered[path];
    if (entry !== undefined && entry.size === info.size && entry.modifiedMs === info.mtimeMs) return entry.sha256;
  }
  const sha256 = await hashFile(path);
  if (memoPath !== undefined && cacheDir !== undefined) {
    remembered[path] = { size: info.size, modifiedMs: info.mtimeMs, sha256 };
    try {
      await mkdir(cacheDir, { recursive: true });
      const temporary = `${memoPath}.${process.pid}.tmp`;
      await writeFile(temporary, JSON.stringify(remembered));
      await rename(temporary, memoPath);
    } catch {
      // The memo is an optimisation only: a read-only cache directory just means hashing again next time.
    }
  }
  return sha256;
}
