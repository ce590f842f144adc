/** Locations every process agrees on: the project's own files and the cache directory. */
import { homedir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** The project's root folder (where package.json and sample-data/ are), from src/ or dist/. */
export const projectRoot = fileURLToPath(new URL("../../", import.meta.url));

/** `LLM_TWIN_CACHE_DIR`, default `~/.cache/llm-twin`: models, embedding caches, generated models. */
export function defaultCacheDirectory(environment: NodeJS.ProcessEnv = process.env): string {
  const configured = environment.LLM_TWIN_CACHE_DIR;
  return configured !== undefined && configured !== "" ? configured : join(homedir(), ".cache", "llm-twin");
}
