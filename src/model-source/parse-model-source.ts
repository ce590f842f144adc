/**
 * What a model source string names: a local file, an http(s) URL, or a Hugging Face file
 * (`hf:<user>/<repo>/<path/to/file.gguf>`) or quantization (`hf:<user>/<repo>:<quant>`;
 * `hf:<user>/<repo>` alone means Q4_K_M, as llama.cpp does).
 */

import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { AppError } from "../errors/app-error.js";

export type ModelSource =
  | { kind: "file"; path: string }
  | { kind: "url"; url: string }
  | { kind: "huggingface-file"; user: string; repository: string; file: string }
  | { kind: "huggingface-quantization"; user: string; repository: string; quantization: string | undefined };

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

function invalid(source: string, reason: string): AppError {
  return new AppError("configuration_error", `Invalid model source "${source}": ${reason}`, {
    details: { source },
  });
}

function parseHuggingFace(source: string, rest: string): ModelSource {
  const colon = rest.indexOf(":");
  const path = colon === -1 ? rest : rest.slice(0, colon);
  const quantization = colon === -1 ? undefined : rest.slice(colon + 1);
  const [user, repository, ...fileParts] = path.split("/");
  if (user === undefined || repository === undefined || !NAME.test(user) || !NAME.test(repository)) {
    throw invalid(source, "expected hf:<user>/<repo>:<quant> or hf:<user>/<repo>/<file.gguf>");
  }
  if (fileParts.length > 0) {
    if (quantization !== undefined) throw invalid(source, "give either a file or a quantization, not both");
    const file = fileParts.join("/");
    if (fileParts.some((part) => part === "" || part === "." || part === "..")) {
      throw invalid(source, "the file path has an empty, '.' or '..' segment");
    }
    if (!file.toLowerCase().endsWith(".gguf")) throw invalid(source, "the file must be a .gguf file");
    return { kind: "huggingface-file", user, repository, file };
  }
  if (quantization !== undefined && !/^[A-Za-z0-9_.-]+$/.test(quantization)) {
    throw invalid(source, `"${quantization}" is not a quantization name (e.g. Q4_K_M)`);
  }
  return { kind: "huggingface-quantization", user, repository, quantization };
}

export function parseModelSource(source: string, baseDirectory: string = process.cwd()): ModelSource {
  const trimmed = source.trim();
  if (trimmed === "") throw invalid(source, "empty");
  if (trimmed.startsWith("hf://")) return parseHuggingFace(source, trimmed.slice("hf://".length));
  if (trimmed.startsWith("hf:")) return parseHuggingFace(source, trimmed.slice("hf:".length));
  if (/^https?:\/\//i.test(trimmed)) {
    try {
      return { kind: "url", url: new URL(trimmed).href };
    } catch {
      throw invalid(source, "not a valid URL");
    }
  }
  if (trimmed.startsWith("file:")) return { kind: "file", path: fileURLToPath(trimmed) };
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed))
    throw invalid(source, "unsupported scheme (use a path, http(s) or hf:)");
  return { kind: "file", path: resolve(baseDirectory, trimmed) };
}
