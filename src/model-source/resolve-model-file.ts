/**
 * `resolveModelFile(source)`: the local path of a GGUF model named by a path, an http(s) URL, an
 * `hf:` URI or a model registry reference (`registry:<name>@<version|stage>`, integrity checked:
 * see `resolveModelSource` for the registry entry too). Remote models are downloaded once into `<cacheDir>/models/` (resumable, atomic);
 * later calls find them there without any request.
 *
 *   <cacheDir>/models/url/<sha256(url)[:16]>-<file name>
 *   <cacheDir>/models/hf/<user>/<repo>/<file path>
 *   <cacheDir>/models/hf/<user>/<repo>/.quantization-<QUANT>.json   (which file a quantization named)
 */

import { createHash } from "node:crypto";
import { mkdir, readFile, rename, stat, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { defaultCacheDirectory } from "../config/paths.js";
import { AppError } from "../errors/app-error.js";
import { REGISTRY_SCHEME } from "../models-registry/reference.js";
import type { ModelEntry } from "../models-registry/types.js";
import { type DownloadOptions, type DownloadProgress, downloadFile } from "./download.js";
import { assertGgufFile } from "./gguf-magic.js";
import {
  DEFAULT_QUANTIZATION,
  type HuggingFaceOptions,
  huggingFaceFileUrl,
  huggingFaceHeaders,
  listRepositoryFiles,
  pickQuantizationFile,
} from "./huggingface.js";
import { parseModelSource } from "./parse-model-source.js";

export type ResolveModelFileOptions = {
  /** Root cache directory; models go to `<cacheDir>/models`. Default LLM_TWIN_CACHE_DIR or ~/.cache/llm-twin. */
  cacheDir?: string;
  onProgress?: (progress: DownloadProgress) => void;
  signal?: AbortSignal;
  /** Hugging Face endpoint; default HF_ENDPOINT or https://huggingface.co. */
  huggingFaceEndpoint?: string;
  /** Hugging Face token; default HF_TOKEN. */
  huggingFaceToken?: string;
  /** Relative paths are resolved against this; default the working directory. */
  baseDirectory?: string;
  /** The model registry `registry:` sources are read from (a folder or s3://bucket/prefix); default LLM_TWIN_REGISTRY or `<cacheDir>/registry`. */
  registry?: string;
} & Pick<DownloadOptions, "retries" | "retryDelayMs" | "idleTimeoutMs" | "progressIntervalMs">;

export { defaultCacheDirectory };

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

const inFlight = new Map<string, Promise<string>>();

/** One download per destination at a time within this process. */
function downloadOnce(url: string, destination: string, options: DownloadOptions): Promise<string> {
  const existing = inFlight.get(destination);
  if (existing !== undefined) return existing;
  const promise = downloadFile(url, destination, options).finally(() => inFlight.delete(destination));
  inFlight.set(destination, promise);
  return promise;
}

function safeFileName(name: string): string {
  const cleaned = name.replace(/[^A-Za-z0-9._-]/g, "_").replace(/^\.+/, "_");
  return cleaned === "" ? "model.gguf" : cleaned.slice(0, 120);
}

export type ResolvedModelSource = {
  path: string;
  /** The registry entry, for `registry:` sources (its name, version, stages, sha256...). */
  entry?: ModelEntry;
};

/**
 * The one resolver of model sources: a path, an http(s) URL, an `hf:` URI or a
 * `registry:<name>@<version|stage>` reference (read from `options.registry`, the file checked
 * against the sha256 and size recorded at registration: `integrity_mismatch` otherwise).
 */
export async function resolveModelSource(
  source: string,
  options: ResolveModelFileOptions = {},
): Promise<ResolvedModelSource> {
  if (source.trim().startsWith(REGISTRY_SCHEME)) {
    const { defaultRegistryLocation, resolveRegistryReference } = await import("../models-registry/open.js");
    const resolved = await resolveRegistryReference(source.trim(), {
      registry: options.registry ?? defaultRegistryLocation(process.env, options.cacheDir),
      ...(options.cacheDir === undefined ? {} : { cacheDirectory: options.cacheDir }),
    });
    await assertGgufFile(resolved.path);
    return { path: resolved.path, entry: resolved.entry };
  }
  return { path: await resolveModelFile(source, options) };
}

export async function resolveModelFile(source: string, options: ResolveModelFileOptions = {}): Promise<string> {
  if (source.trim().startsWith(REGISTRY_SCHEME)) return (await resolveModelSource(source, options)).path;
  const parsed = parseModelSource(source, options.baseDirectory);
  if (parsed.kind === "file") {
    await assertGgufFile(parsed.path);
    return parsed.path;
  }
  const modelsDirectory = join(options.cacheDir ?? defaultCacheDirectory(), "models");
  const huggingFace: HuggingFaceOptions = {
    ...(options.huggingFaceEndpoint === undefined ? {} : { endpoint: options.huggingFaceEndpoint }),
    ...(options.huggingFaceToken === undefined ? {} : { token: options.huggingFaceToken }),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  };
  const download: DownloadOptions = {
    ...(options.signal === undefined ? {} : { signal: options.signal }),
    ...(options.onProgress === undefined ? {} : { onProgress: options.onProgress }),
    ...(options.retries === undefined ? {} : { retries: options.retries }),
    ...(options.retryDelayMs === undefined ? {} : { retryDelayMs: options.retryDelayMs }),
    ...(options.idleTimeoutMs === undefined ? {} : { idleTimeoutMs: options.idleTimeoutMs }),
    ...(options.progressIntervalMs === undefined ? {} : { progressIntervalMs: options.progressIntervalMs }),
  };

  if (parsed.kind === "url") {
    const name = safeFileName(decodeURIComponent(basename(new URL(parsed.url).pathname)) || "model.gguf");
    const hash = createHash("sha256").update(parsed.url).digest("hex").slice(0, 16);
    const destination = join(modelsDirectory, "url", `${hash}-${name}`);
    if (await isFile(destination)) return destination;
    return downloadOnce(parsed.url, destination, download);
  }

  const repositoryDirectory = join(modelsDirectory, "hf", parsed.user, parsed.repository);
  const repositoryName = `${parsed.user}/${parsed.repository}`;
  let file: string;
  if (parsed.kind === "huggingface-file") {
    file = parsed.file;
  } else {
    const quantization = (parsed.quantization ?? DEFAULT_QUANTIZATION).toUpperCase();
    const memo = join(repositoryDirectory, `.quantization-${quantization}.json`);
    const remembered = await readRemembered(memo);
    if (remembered !== undefined && (await isFile(join(repositoryDirectory, remembered)))) {
      return join(repositoryDirectory, remembered);
    }
    const files = await listRepositoryFiles(parsed.user, parsed.repository, huggingFace);
    file = pickQuantizationFile(files, parsed.quantization, repositoryName);
    await mkdir(repositoryDirectory, { recursive: true });
    const temporary = `${memo}.${process.pid}.tmp`;
    await writeFile(temporary, JSON.stringify({ file }));
    await rename(temporary, memo);
  }
  const destination = join(repositoryDirectory, ...file.split("/"));
  if (!destination.startsWith(repositoryDirectory)) {
    throw new AppError("configuration_error", `Refusing a file path outside the cache: ${file}`);
  }
  if (await isFile(destination)) return destination;
  await mkdir(dirname(destination), { recursive: true });
  return downloadOnce(huggingFaceFileUrl(parsed.user, parsed.repository, file, huggingFace), destination, {
    ...download,
    headers: huggingFaceHeaders(huggingFace),
  });
}

async function readRemembered(path: string): Promise<string | undefined> {
  try {
    const value = JSON.parse(await readFile(path, "utf8")) as { file?: unknown };
    return typeof value.file === "string" && !value.file.split("/").includes("..") ? value.file : undefined;
  } catch {
    return undefined;
  }
}
