/** Store metadata as a JSON file, written atomically (temporary file + rename). */
import { randomBytes } from "node:crypto";
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { AppError } from "../errors/app-error.js";
import type { StoreMetadata } from "./port.js";

export async function readMetadataFile(path: string): Promise<StoreMetadata | undefined> {
  return (await readMetadataDocument(path))?.metadata;
}

/**
 * The metadata and the generation of the live collections it describes (absent: the unversioned
 * names of stores written before re-indexing beside the live index existed).
 */
export type MetadataDocument = { metadata: StoreMetadata; generation: string | undefined };

export async function readMetadataDocument(path: string): Promise<MetadataDocument | undefined> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new AppError("dependency_unavailable", `Cannot read store metadata ${path}.`, { cause: error });
  }
  const { generation, ...metadata } = parseStoreMetadata(text, path) as StoreMetadata & { generation?: unknown };
  return { metadata, generation: typeof generation === "string" ? generation : undefined };
}

export function parseStoreMetadata(text: string, where: string): StoreMetadata {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new AppError("internal_error", `Store metadata in ${where} is not valid JSON.`, { cause: error });
  }
  if (!isStoreMetadata(value)) {
    throw new AppError("internal_error", `Store metadata in ${where} does not have the expected shape.`);
  }
  return value;
}

function isStoreMetadata(value: unknown): value is StoreMetadata {
  if (typeof value !== "object" || value === null) return false;
  const record = value as Record<string, unknown>;
  const fingerprint = record.fingerprint as Record<string, unknown> | undefined;
  return (
    typeof record.createdAt === "string" &&
    typeof record.updatedAt === "string" &&
    typeof fingerprint === "object" &&
    fingerprint !== null &&
    typeof fingerprint.hash === "string" &&
    typeof fingerprint.embedder === "object"
  );
}

/** Writes the metadata (and the live generation, when there is one) in one atomic rename. */
export async function writeMetadataFile(path: string, metadata: StoreMetadata, generation?: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temporary = `${path}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  try {
    const document = generation === undefined ? metadata : { ...metadata, generation };
    await writeFile(temporary, `${JSON.stringify(document, null, 2)}\n`, { encoding: "utf8", flush: true });
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw new AppError("dependency_unavailable", `Cannot write store metadata ${path}.`, { cause: error });
  }
}

export async function removeMetadataFile(path: string): Promise<void> {
  await rm(path, { force: true });
}
