/**
 * The library's constructors, each a free function taking one options object: the vector store,
 * the embedder and the language model (in-process llama.cpp from a GGUF source, or a client of a
 * TGI / OpenAI-compatible / SageMaker service). Heavy adapters load on first use, not at import.
 */
import { type CreateEmbedderOptions, createEmbedder as createEmbedderFromSpec } from "../embedding/create.js";
import type { Embedder } from "../embedding/port.js";
import { AppError } from "../errors/index.js";
import type { LlamaCppEngineOptions } from "../llm/llama-cpp/engine-types.js";
import type { LanguageModel } from "../llm/port.js";
import type { DownloadProgress } from "../model-source/download.js";
import type { OpenVectorStoreOptions } from "../vector-store/open.js";
import type { VectorStore } from "../vector-store/port.js";
import { DEFAULT_STORE_URI } from "../vector-store/uri.js";
import { learnServicePromptLimit } from "./prompt-limits.js";

export type OpenVectorStoreInput = OpenVectorStoreOptions & {
  /** `lancedb:<dir>` (or a bare directory) or `qdrant:<http(s) url>`. Default `lancedb:./.llm-twin/store`. */
  uri?: string;
};

/** Opens (creating when needed) the vector store at `uri`. Release it with `await store[Symbol.asyncDispose]()` (or `await using`) when done. */
export async function openVectorStore(input: OpenVectorStoreInput = {}): Promise<VectorStore> {
  const { uri = DEFAULT_STORE_URI, ...options } = input;
  const { openVectorStore: open } = await import("../vector-store/open.js");
  return open(uri, options);
}

export type CreateEmbedderInput = CreateEmbedderOptions & {
  /** `static` (word vectors, no download) or `gguf:<path | http(s) URL | hf:user/repo[:quant]>`. Default `static`. */
  model?: string;
};

/** The embedder named by `model`; it must match the one the store was filled with. */
export async function createEmbedder(input: CreateEmbedderInput = {}): Promise<Embedder> {
  const { model, ...options } = input;
  return createEmbedderFromSpec(model, options);
}

export type LocalLanguageModelInput = Omit<LlamaCppEngineOptions, "modelPath"> & {
  /** A GGUF file: a path, an http(s) URL or `hf:<user>/<repo>[:<quant>]` (downloaded into the cache). */
  model: string;
  /** Cache of downloaded models. Default LLM_TWIN_CACHE_DIR or ~/.cache/llm-twin. */
  cacheDir?: string;
  onDownloadProgress?: (progress: DownloadProgress) => void;
  signal?: AbortSignal;
};

export type RemoteLanguageModelInput = {
  /**
   * A service URL: http(s) (TGI API by default), `openai:<url>` or `sagemaker:<endpoint>`;
   * several comma-separated URLs are load-balanced.
   */
  url: string;
  /** API of plain http(s) URLs. Default "tgi". */
  api?: "tgi" | "openai";
  /** Deadline of each call in milliseconds. */
  timeoutMs?: number;
};

export type CreateLanguageModelInput = LocalLanguageModelInput | RemoteLanguageModelInput;

/**
 * A language model: `{ model }` loads a GGUF in this process on llama.cpp; `{ url }` talks to an
 * LLM service. Release it with `await llm[Symbol.asyncDispose]()` when done.
 */
export async function createLanguageModel(input: CreateLanguageModelInput): Promise<LanguageModel> {
  if ("url" in input) {
    const { createLanguageModelFromUrl } = await import("../llm/clients/index.js");
    const llm = createLanguageModelFromUrl(input.url, {
      api: input.api ?? "tgi",
      ...(input.timeoutMs === undefined ? {} : { timeoutMs: input.timeoutMs }),
    });
    // A TGI service says its input limit in /info: answer and answerStream fit the prompt to it.
    const first = input.url.split(",")[0]?.trim() ?? "";
    if ((input.api ?? "tgi") === "tgi" && /^https?:\/\//.test(first)) {
      await learnServicePromptLimit(llm, first, input.timeoutMs);
    }
    return llm;
  }
  if (typeof input.model !== "string" || input.model === "") {
    throw new AppError("configuration_error", "createLanguageModel: give { model } (a GGUF source) or { url }");
  }
  const { model, cacheDir, onDownloadProgress, signal, ...engine } = input;
  const [{ resolveModelFile }, { createLlamaCppLanguageModel }] = await Promise.all([
    import("../model-source/index.js"),
    import("../llm/llama-cpp/index.js"),
  ]);
  const modelPath = await resolveModelFile(model, {
    ...(cacheDir === undefined ? {} : { cacheDir }),
    ...(onDownloadProgress === undefined ? {} : { onProgress: onDownloadProgress }),
    ...(signal === undefined ? {} : { signal }),
  });
  return createLlamaCppLanguageModel({ ...engine, modelPath });
}
