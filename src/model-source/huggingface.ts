/**
 * Hugging Face Hub: which file a `hf:<user>/<repo>:<quant>` source names (from the model's file
 * list, `GET <endpoint>/api/models/<user>/<repo>`), and the download URL of a file
 * (`<endpoint>/<user>/<repo>/resolve/main/<file>`). The endpoint is `HF_ENDPOINT` (default
 * https://huggingface.co) and `HF_TOKEN`, when set, is sent as a bearer token.
 */

import { AppError } from "../errors/app-error.js";

export const DEFAULT_HUGGING_FACE_ENDPOINT = "https://huggingface.co";
export const DEFAULT_QUANTIZATION = "Q4_K_M";

export type HuggingFaceOptions = {
  endpoint?: string;
  token?: string;
  signal?: AbortSignal;
};

export function huggingFaceEndpoint(options: HuggingFaceOptions = {}): string {
  const endpoint = options.endpoint ?? process.env.HF_ENDPOINT ?? DEFAULT_HUGGING_FACE_ENDPOINT;
  return endpoint.replace(/\/+$/, "");
}

export function huggingFaceHeaders(options: HuggingFaceOptions = {}): Record<string, string> {
  const token = options.token ?? process.env.HF_TOKEN;
  return token === undefined || token === "" ? {} : { authorization: `Bearer ${token}` };
}

function encodePath(path: string): string {
  return path.split("/").map(encodeURIComponent).join("/");
}

export function huggingFaceFileUrl(user: string, repository: string, file: string, options: HuggingFaceOptions = {}) {
  return `${huggingFaceEndpoint(options)}/${encodeURIComponent(user)}/${encodeURIComponent(repository)}/resolve/main/${encodePath(file)}`;
}

const SPLIT_PART = /-\d{5}-of-\d{5}\.gguf$/i;

/** The GGUF file of `quantization` among a repository's files (case-insensitive, name-bounded match). */
export function pickQuantizationFile(
  files: readonly string[],
  quantization: string | undefined,
  repositoryName: string,
): string {
  const ggufFiles = files.filter((file) => {
    const base = file.split("/").at(-1) ?? file;
    return base.toLowerCase().endsWith(".gguf") && !base.toLowerCase().startsWith("mmproj");
  });
  if (ggufFiles.length === 0) {
    throw new AppError("model_not_found", `No GGUF file in Hugging Face repository ${repositoryName}`);
  }
  const wanted = (quantization ?? DEFAULT_QUANTIZATION).toUpperCase();
  const bounded = new RegExp(`(^|[^A-Z0-9])${wanted.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}([^A-Z0-9_]|$)`);
  const matches = ggufFiles.filter((file) => bounded.test((file.split("/").at(-1) ?? file).toUpperCase()));
  const whole = matches
    .filter((file) => !SPLIT_PART.test(file))
    .sort((a, b) => a.length - b.length || (a < b ? -1 : 1));
  if (whole[0] !== undefined) return whole[0];
  if (matches.length > 0) {
    throw new AppError(
      "configuration_error",
      `${repositoryName}: ${wanted} is only published as a split GGUF (${matches[0]}, ...), which is not supported; merge it with llama-gguf-split or pick another quantization`,
    );
  }
  if (quantization === undefined && ggufFiles.length === 1 && ggufFiles[0] !== undefined) return ggufFiles[0];
  throw new AppError(
    "model_not_found",
    `No ${wanted} GGUF file in Hugging Face repository ${repositoryName}; available: ${ggufFiles.join(", ")}`,
    { details: { available: ggufFiles } },
  );
}

/** Lists a repository's files through the Hub API. */
export async function listRepositoryFiles(
  user: string,
  repository: string,
  options: HuggingFaceOptions = {},
): Promise<string[]> {
  const url = `${huggingFaceEndpoint(options)}/api/models/${encodeURIComponent(user)}/${encodeURIComponent(repository)}`;
  let response: Response;
  try {
    response = await fetch(url, {
      headers: { accept: "application/json", ...huggingFaceHeaders(options) },
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    });
  } catch (error) {
    if (options.signal?.aborted === true)
      throw new AppError("aborted", `Request to ${url} was aborted`, { cause: error });
    throw new AppError("upstream_unavailable", `Cannot reach the Hugging Face Hub at ${url}`, { cause: error });
  }
  const name = `${user}/${repository}`;
  if (response.status === 404 || response.status === 401) {
    // The Hub answers 401 for repositories that do not exist as well as for gated ones without a token.
    throw new AppError("model_not_found", `Hugging Face repository ${name} not found (or gated: set HF_TOKEN)`, {
      details: { url, status: response.status },
    });
  }
  if (!response.ok) {
    throw new AppError(
      response.status >= 500 || response.status === 429 ? "upstream_unavailable" : "upstream_error",
      `The Hugging Face Hub answered HTTP ${response.status} for ${name}`,
      { details: { url, status: response.status } },
    );
  }
  const body = (await response.json().catch(() => undefined)) as { siblings?: unknown } | undefined;
  const siblings = body?.siblings;
  if (!Array.isArray(siblings)) {
    throw new AppError("upstream_error", `Unexpected Hugging Face Hub response for ${name} (no file list)`);
  }
  return siblings
    .map((entry) => (entry as { rfilename?: unknown }).rfilename)
    .filter((file): file is string => typeof file === "string");
}
