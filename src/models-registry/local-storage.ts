/**
 * A registry in a local folder. Writes go to a temporary file renamed into place (a crash leaves
 * the old or the new content); index updates hold a lock file (`.lock`, created exclusively, holding
 * the writer's pid) so concurrent `models register` runs get distinct versions. A lock left by a
 * process that is gone is taken over.
 */
import { copyFile, mkdir, open, readFile, rename, rm, writeFile } from "node:fs/promises";
import { dirname, join, resolve, sep } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { AppError } from "../errors/index.js";
import type { RegistryStorage } from "./storage.js";

const LOCK_FILE = ".lock";

export type LocalStorageOptions = {
  /** How long an update waits for another writer's lock before giving up (ms). */
  lockTimeoutMs?: number;
};

export function createLocalRegistryStorage(directory: string, options: LocalStorageOptions = {}): RegistryStorage {
  const root = resolve(directory);
  const lockTimeoutMs = options.lockTimeoutMs ?? 30_000;

  function pathOf(key: string): string {
    const path = resolve(root, key);
    if (!path.startsWith(root + sep)) throw new AppError("bad_request", `registry key "${key}" leaves ${root}`);
    return path;
  }

  async function writeAtomically(path: string, write: (temporary: string) => Promise<void>): Promise<void> {
    await mkdir(dirname(path), { recursive: true });
    const temporary = `${path}.tmp-${process.pid}-${Math.random().toString(36).slice(2, 10)}`;
    try {
      await write(temporary);
      await rename(temporary, path);
    } catch (error) {
      await rm(temporary, { force: true });
      throw error;
    }
  }

  async function withLock<T>(work: () => Promise<T>): Promise<T> {
    await mkdir(root, { recursive: true });
    const lockPath = join(root, LOCK_FILE);
    const deadline = Date.now() + lockTimeoutMs;
    for (;;) {
      try {
        const handle = await open(lockPath, "wx");
        await handle.writeFile(String(process.pid));
        await handle.close();
        break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
        if (await lockIsStale(lockPath)) {
          await rm(lockPath, { force: true });
          continue;
        }
        if (Date.now() > deadline)
          throw new AppError(
            "timeout",
            `the registry ${root} is locked by another writer (${lockPath}); retry, or remove the file if no llm-twin process is running`,
          );
        await sleep(20);
      }
    }
    try {
      return await work();
    } finally {
      await rm(lockPath, { force: true });
    }
  }

  async function readText(key: string): Promise<string | undefined> {
    try {
      return await readFile(pathOf(key), "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw error;
    }
  }

  return {
    location: root,
    readText,
    async update(key, next) {
      const path = pathOf(key);
      await withLock(async () => {
        const current = await readText(key);
        const text = next(current);
        await writeAtomically(path, (temporary) => writeFile(temporary, text));
      });
    },
    async putFile(key, sourcePath) {
      await writeAtomically(pathOf(key), (temporary) => copyFile(sourcePath, temporary));
    },
    async localPath(key) {
      return pathOf(key);
    },
    async remove(key) {
      await rm(pathOf(key), { force: true });
    },
  };
}

async function lockIsStale(lockPath: string): Promise<boolean> {
  const pid = Number((await readFile(lockPath, "utf8").catch(() => "")).trim());
  if (!Number.isInteger(pid) || pid <= 0) return false; // being written right now
  if (pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== "EPERM";
  }
}
