/**
 * Opening a registry from its location (a folder or `s3://bucket/prefix`), and resolving
 * `registry:<name>@<version|stage>` model sources to a local file: the one function serving code
 * calls to turn a registry reference into a path it can load.
 */
import { join } from "node:path";
import type { S3Client } from "@aws-sdk/client-s3";
import { silenceAwsNodeVersionWarning } from "../config/aws-sdk.js";
import { defaultCacheDirectory } from "../config/paths.js";
import { AppError } from "../errors/index.js";
import { createLocalRegistryStorage } from "./local-storage.js";
import { findEntry, parseModelReference, REGISTRY_SCHEME } from "./reference.js";
import { loadModelFile, readRegistryIndex } from "./registry.js";
import type { RegistryStorage } from "./storage.js";
import type { ModelEntry } from "./types.js";

export const REGISTRY_ENV = "LLM_TWIN_REGISTRY";

/** `$LLM_TWIN_REGISTRY`, else `<cacheDirectory>/registry` (default: the cache directory of `environment`). */
export function defaultRegistryLocation(environment: NodeJS.ProcessEnv = process.env, cacheDirectory?: string): string {
  const configured = environment[REGISTRY_ENV];
  return configured !== undefined && configured !== ""
    ? configured
    : join(cacheDirectory ?? defaultCacheDirectory(environment), "registry");
}

export type OpenRegistryOptions = {
  /** Downloads of an S3 registry go under `<cacheDirectory>/registry-s3`. */
  cacheDirectory?: string;
  /** An S3 client to use (tests pass a mocked one); by default one from the AWS environment. */
  s3Client?: S3Client;
};

export async function openRegistryStorage(
  location: string,
  options: OpenRegistryOptions = {},
): Promise<RegistryStorage> {
  if (location.trim() === "")
    throw new AppError(
      "bad_request",
      `--registry is empty: give a folder or s3://bucket/prefix (or set ${REGISTRY_ENV})`,
    );
  const cacheDirectory = options.cacheDirectory ?? defaultCacheDirectory();
  if (location.startsWith("s3://")) {
    const { createS3RegistryStorage } = await import("./s3-storage.js");
    if (options.s3Client === undefined) silenceAwsNodeVersionWarning();
    const client = options.s3Client ?? new (await import("@aws-sdk/client-s3")).S3Client({});
    return createS3RegistryStorage(location, { client, cacheDirectory });
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(location))
    throw new AppError("bad_request", `--registry ${location}: a folder or s3://bucket/prefix is expected`);
  return createLocalRegistryStorage(location);
}

export function isRegistryReference(source: string): boolean {
  return source.startsWith(REGISTRY_SCHEME);
}

export type ResolvedRegistryModel = { entry: ModelEntry; path: string };

/**
 * `registry:twin-paul@production` (or `@2`, or no selector for the latest version) → the entry and
 * a local path to its file, integrity checked. `registry` is a location or an opened storage.
 */
export async function resolveRegistryReference(
  source: string,
  options: OpenRegistryOptions & { registry?: string | RegistryStorage } = {},
): Promise<ResolvedRegistryModel> {
  if (!isRegistryReference(source))
    throw new AppError("bad_request", `"${source}" is not a registry reference (registry:<name>@<version|stage>)`);
  const reference = parseModelReference(source.slice(REGISTRY_SCHEME.length));
  const storage =
    typeof options.registry === "object"
      ? options.registry
      : await openRegistryStorage(options.registry ?? defaultRegistryLocation(), options);
  const entry = findEntry(await readRegistryIndex(storage), reference, storage.location);
  return { entry, path: await loadModelFile(storage, entry) };
}
