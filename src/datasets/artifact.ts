/**
 * Dataset artifacts (instruct and preference datasets) beside the document artifacts, in the same
 * folder: `<artifacts>/<version>/manifest.json` plus the dataset files. The version is content
 * addressed (the files' hash and the generator's description); the manifest says what it came from
 * (a document artifact, a traces file). Written into a temporary folder renamed into place, so a
 * run that dies leaves no half artifact. LATEST stays the latest *document* artifact.
 */
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { AppError } from "../errors/index.js";
import { canonicalJson, sha256Hex } from "../preprocessing/index.js";

export const DATASET_KINDS = ["instruct", "preferences"] as const;
export type DatasetKind = (typeof DATASET_KINDS)[number];

export type DatasetManifest = {
  formatVersion: 1;
  kind: DatasetKind;
  version: string;
  createdAt: string;
  /** The artifact this one was made from (document artifact version), or null (traces). */
  parent: string | null;
  contentHash: string;
  lineage: {
    documents: string | null;
    traces: { file: string; sha256: string; since: string | null } | null;
    /** The RAG service's feedback store the pairs came from (preference datasets). */
    feedback?: { store: string; entries: number; sha256: string; since: string | null };
  };
  generator: { model: string | null; promptTemplateVersion: string; parameters: Record<string, unknown> };
  counts: Record<string, number>;
  files: { name: string; records: number; sha256: string }[];
};

export type DatasetFile = { name: string; lines: readonly string[] };

export async function writeDatasetArtifact(
  directory: string,
  input: Omit<DatasetManifest, "formatVersion" | "version" | "createdAt" | "contentHash" | "files"> & {
    files: readonly DatasetFile[];
    now?: () => Date;
  },
): Promise<{ manifest: DatasetManifest; path: string; created: boolean }> {
  await mkdir(directory, { recursive: true });
  const files = input.files.map((file) => {
    const text = file.lines.join("");
    return { name: file.name, text, records: file.lines.length, sha256: sha256Hex(text) };
  });
  const contentHash = createHash("sha256")
    .update(files.map((file) => `${file.name} ${file.sha256}\n`).join(""))
    .digest("hex");
  const version = sha256Hex(`${input.kind}\n${contentHash}\n${canonicalJson(input.generator)}`).slice(0, 16);
  const path = join(directory, version);
  if (existsSync(join(path, "manifest.json"))) {
    const manifest = JSON.parse(await readFile(join(path, "manifest.json"), "utf8")) as DatasetManifest;
    return { manifest, path, created: false };
  }
  const manifest: DatasetManifest = {
    formatVersion: 1,
    kind: input.kind,
    version,
    createdAt: (input.now ?? (() => new Date()))().toISOString(),
    parent: input.parent,
    contentHash,
    lineage: input.lineage,
    generator: input.generator,
    counts: input.counts,
    files: files.map(({ name, records, sha256 }) => ({ name, records, sha256 })),
  };
  const temporary = join(directory, `.tmp-${process.pid}-${Math.random().toString(36).slice(2, 10)}`);
  await mkdir(temporary);
  try {
    for (const file of files) await writeFile(join(temporary, file.name), file.text);
    await writeFile(join(temporary, "manifest.json"), `${JSON.stringify(manifest, null, 2)}\n`);
    await rm(path, { recursive: true, force: true });
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { recursive: true, force: true });
    throw error;
  }
  return { manifest, path, created: true };
}

export type DatasetListing = { manifest: DatasetManifest; path: string };

/** Every dataset artifact under `directory`, oldest first. */
export async function listDatasetArtifacts(directory: string): Promise<DatasetListing[]> {
  if (!existsSync(directory)) return [];
  const listings: DatasetListing[] = [];
  for (const entry of await readdir(directory, { withFileTypes: true })) {
    if (!entry.isDirectory() || entry.name.startsWith(".")) continue;
    const manifestPath = join(directory, entry.name, "manifest.json");
    if (!existsSync(manifestPath)) continue;
    let manifest: DatasetManifest;
    try {
      manifest = JSON.parse(await readFile(manifestPath, "utf8")) as DatasetManifest;
    } catch (cause) {
      throw new AppError("internal_error", `cannot read the artifact manifest ${manifestPath}`, { cause });
    }
    if ((DATASET_KINDS as readonly string[]).includes(manifest.kind))
      listings.push({ manifest, path: join(directory, entry.name) });
  }
  return listings.sort((left, right) => left.manifest.createdAt.localeCompare(right.manifest.createdAt));
}
