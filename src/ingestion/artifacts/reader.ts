/** Reads dataset artifacts back: `llm-twin artifacts list|show`, and training-side consumers. */
import { existsSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { AppError } from "../../errors/index.js";
import { type ArtifactManifest, MANIFEST_FILE } from "./types.js";
import { readLatest } from "./writer.js";

export type ArtifactListing = { manifest: ArtifactManifest; path: string; latest: boolean };

/** Every document artifact under `directory`, oldest first. An absent directory has none. */
export async function listArtifacts(directory: string): Promise<ArtifactListing[]> {
  if (!existsSync(directory)) return [];
  const latest = await readLatest(directory);
  const listings: ArtifactListing[] = [];
  for (const entry of await readdir(directory, { withFileTypes: true })) {
    if (!entry.isDirectory() || entry.name.startsWith(".")) continue;
    const path = join(directory, entry.name);
    const manifestPath = join(path, MANIFEST_FILE);
    if (!existsSync(manifestPath)) continue;
    const manifest = await readManifest(manifestPath);
    if ((manifest as { kind?: unknown }).kind !== undefined) continue; // a dataset artifact (src/datasets)
    listings.push({ manifest, path, latest: manifest.version === latest });
  }
  return listings.sort(
    (left, right) =>
      left.manifest.createdAt.localeCompare(right.manifest.createdAt) ||
      left.manifest.version.localeCompare(right.manifest.version),
  );
}

/** One artifact by version (or a unique prefix of it), or "latest". */
export async function showArtifact(directory: string, reference: string): Promise<ArtifactListing> {
  const listings = await listArtifacts(directory);
  if (listings.length === 0)
    throw new AppError("not_found", `no dataset artifacts in ${directory} (run 'llm-twin ingest' first)`);
  const matches =
    reference === "latest"
      ? listings.filter((listing) => listing.latest)
      : listings.filter((listing) => listing.manifest.version.startsWith(reference));
  const [match] = matches;
  if (match === undefined || matches.length > 1) {
    const known = listings.map((listing) => listing.manifest.version).join(", ");
    throw new AppError(
      "not_found",
      matches.length > 1
        ? `"${reference}" matches several artifacts: ${known}`
        : `no artifact "${reference}" in ${directory}; known: ${known}`,
    );
  }
  return match;
}

async function readManifest(path: string): Promise<ArtifactManifest> {
  try {
    return JSON.parse(await readFile(path, "utf8")) as ArtifactManifest;
  } catch (cause) {
    throw new AppError("internal_error", `cannot read the artifact manifest ${path}: ${String(cause)}`, { cause });
  }
}
