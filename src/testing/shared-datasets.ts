/**
 * Locates ../shared/datasets (real data for tests and benchmarks). A user's clone has none:
 * tests that need it skip with a message saying why; here and in CI it is always present.
 */
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { projectRoot } from "../config/paths.js";

export function sharedDatasetsDir(): string | undefined {
  const fromEnv = process.env.LLM_TWIN_SHARED_DATASETS;
  const candidate = fromEnv ?? resolve(projectRoot, "../shared/datasets");
  return existsSync(candidate) ? candidate : undefined;
}

export function sharedDatasetPath(...parts: string[]): string | undefined {
  const dir = sharedDatasetsDir();
  if (dir === undefined) return undefined;
  const path = resolve(dir, ...parts);
  return existsSync(path) ? path : undefined;
}

/** Reason printed when a test skips for lack of the shared datasets. */
export const SHARED_DATASETS_MISSING =
  "skipped: ../shared/datasets is not present (only the project's workspace and CI have it; set LLM_TWIN_SHARED_DATASETS to point at a copy)";

export function requireSharedDataset(...parts: string[]): string | undefined {
  const path = sharedDatasetPath(...parts);
  if (path === undefined && !warned) {
    warned = true;
    process.stderr.write(`${SHARED_DATASETS_MISSING}\n`);
  }
  return path;
}
let warned = false;

export { projectRoot };
