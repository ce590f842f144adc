/**
 * Writes one dataset artifact while ingestion runs: cleaned documents are streamed as JSON Lines
 * into a private temporary folder, hashed on the way. At the end the version is derived from the
 * content hash and the preprocessing fingerprint; if that version exists nothing new is written
 * (same input → same artifact), otherwise the folder is renamed into place atomically and LATEST
 * updated. A run that dies leaves only its temporary folder, removed by the next run.
 */
import { createHash } from "node:crypto";
import { once } from "node:events";
import { createWriteStream, existsSync, type WriteStream } from "node:fs";
import { mkdir, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { type CleanedDocument, DATA_CATEGORIES, type DataCategory } from "../../domain/index.js";
import { canonicalJson, sha256Hex } from "../../preprocessing/index.js";
import type { PreprocessingFingerprint } from "../../vector-store/index.js";
import type { SourceFile } from "../readers/index.js";
import {
  ARTIFACT_FORMAT_VERSION,
  type ArtifactManifest,
  type ArtifactReference,
  DOCUMENTS_FILE,
  LATEST_FILE,
  MANIFEST_FILE,
} from "./types.js";

const TEMPORARY_PREFIX = ".tmp-";

export type ArtifactWriter = {
  add(document: CleanedDocument): Promise<void>;
  /** Seals the artifact. */
  finish(details: { sources: SourceFile[]; skipped: number }): Promise<ArtifactReference>;
  /** Abandons it (the run failed). */
  discard(): Promise<void>;
};

export async function createArtifactWriter(
  directory: string,
  fingerprint: PreprocessingFingerprint,
  options: { now?: () => Date } = {},
): Promise<ArtifactWriter> {
  await mkdir(directory, { recursive: true });
  await removeAbandonedTemporaryFolders(directory);
  const temporary = join(directory, `${TEMPORARY_PREFIX}${process.pid}-${Math.random().toString(36).slice(2, 10)}`);
  await mkdir(temporary);
  const stream: WriteStream = createWriteStream(join(temporary, DOCUMENTS_FILE));
  const hash = createHash("sha256");
  const byCategory = Object.fromEntries(DATA_CATEGORIES.map((category) => [category, 0])) as Record<
    DataCategory,
    number
  >;
  const byAuthor: Record<string, number> = {};
  let count = 0;
  let closed = false;

  async function close(): Promise<void> {
    if (closed) return;
    closed = true;
    stream.end();
    await once(stream, "close");
  }

  return {
    async add(document: CleanedDocument): Promise<void> {
      const line = `${canonicalJson(document)}\n`;
      hash.update(line);
      count++;
      byCategory[document.category]++;
      byAuthor[document.author.fullName] = (byAuthor[document.author.fullName] ?? 0) + 1;
      if (!stream.write(line)) await once(stream, "drain");
    },
    async finish({ sources, skipped }): Promise<ArtifactReference> {
      await close();
      const contentHash = hash.digest("hex");
      const version = sha256Hex(`${contentHash}\n${fingerprint.hash}`).slice(0, 16);
      const finalPath = join(directory, version);
      const parent = await readLatest(directory);
      if (existsSync(join(finalPath, MANIFEST_FILE))) {
        await rm(temporary, { recursive: true, force: true });
        await writeLatest(directory, version);
        const existing = JSON.parse(await readFile(join(finalPath, MANIFEST_FILE), "utf8")) as ArtifactManifest;
        return { version, path: finalPath, created: false, parent: existing.parent };
      }
      const manifest: ArtifactManifest = {
        formatVersion: ARTIFACT_FORMAT_VERSION,
        version,
        createdAt: (options.now ?? (() => new Date()))().toISOString(),
        parent: parent !== undefined && parent !== version ? parent : null,
        contentHash,
        documents: { file: DOCUMENTS_FILE, count, byCategory, byAuthor: sortedRecord(byAuthor), skipped },
        sources,
        fingerprint,
      };
      await writeFile(join(temporary, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
      await rm(finalPath, { recursive: true, force: true }); // a folder without manifest is debris
      await rename(temporary, finalPath);
      await writeLatest(directory, version);
      return { version, path: finalPath, created: true, parent: manifest.parent };
    },
    async discard(): Promise<void> {
      await close().catch(() => undefined);
      await rm(temporary, { recursive: true, force: true });
    },
  };
}

export async function readLatest(directory: string): Promise<string | undefined> {
  try {
    const version = (await readFile(join(directory, LATEST_FILE), "utf8")).trim();
    return version === "" ? undefined : version;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
}

async function writeLatest(directory: string, version: string): Promise<void> {
  const temporary = join(directory, `${TEMPORARY_PREFIX}latest-${process.pid}`);
  await writeFile(temporary, `${version}\n`);
  await rename(temporary, join(directory, LATEST_FILE));
}

/** Removes temporary folders of runs whose process is gone. */
async function removeAbandonedTemporaryFolders(directory: string): Promise<void> {
  for (const entry of await readdir(directory)) {
    if (!entry.startsWith(TEMPORARY_PREFIX)) continue;
    const pid = Number(/^\.tmp-(?:latest-)?(\d+)/.exec(entry)?.[1]);
    if (Number.isInteger(pid) && pid !== process.pid && isAlive(pid)) continue;
    if (pid === process.pid) continue;
    await rm(join(directory, entry), { recursive: true, force: true });
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

function sortedRecord(record: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(record).sort(([left], [right]) => left.localeCompare(right)));
}
