import { readdir, stat } from "node:fs/promises";
import { join, relative, sep } from "node:path";
import { AppError } from "../../errors/index.js";

/** File name endings read from a folder (compressed variants are decompressed on the fly). */
export const DOCUMENT_FILE_SUFFIXES = [".json", ".jsonl", ".ndjson", ".json.gz", ".jsonl.gz", ".ndjson.gz"] as const;

export function isDocumentFile(name: string): boolean {
  const lower = name.toLowerCase();
  return DOCUMENT_FILE_SUFFIXES.some((suffix) => lower.endsWith(suffix));
}

/**
 * The input files of `path`: the file itself, or every document file under the folder,
 * recursively, skipping hidden entries, in code-point order of their relative paths (the same
 * order on every machine).
 */
export async function listInputFiles(path: string): Promise<string[]> {
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(path);
  } catch (error) {
    throw new AppError("not_found", `input path not found: ${path}`, { cause: error });
  }
  if (info.isFile()) return [path];
  if (!info.isDirectory()) throw new AppError("bad_request", `input path is neither a file nor a folder: ${path}`);
  const relativePaths: string[] = [];
  await walk(path, path, relativePaths);
  relativePaths.sort(compareCodePoints);
  return relativePaths.map((relativePath) => join(path, relativePath));
}

async function walk(root: string, folder: string, into: string[]): Promise<void> {
  const entries = await readdir(folder, { withFileTypes: true });
  for (const entry of entries) {
    if (entry.name.startsWith(".")) continue;
    const full = join(folder, entry.name);
    let isDirectory = entry.isDirectory();
    let isFile = entry.isFile();
    if (entry.isSymbolicLink()) {
      const target = await stat(full).catch(() => undefined);
      isDirectory = false; // never follow linked folders (cycles)
      isFile = target?.isFile() ?? false;
    }
    if (isDirectory) await walk(root, full, into);
    else if (isFile && isDocumentFile(entry.name)) into.push(relative(root, full).split(sep).join("/"));
  }
}

function compareCodePoints(left: string, right: string): number {
  return left < right ? -1 : left > right ? 1 : 0;
}
