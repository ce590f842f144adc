/**
 * The HTTP embedder: an OpenAI-compatible embeddings API (serve-llm --embedding-model, OpenAI,
 * vLLM, llama-server, TEI...) behind the Embedder port. At creation it reads GET <base>/models to
 * find the model (the one named, else the first of type "embedding") with its dimensions and
 * limits when the server gives them (serve-llm does), else asks for one embedding to learn the
 * dimensions. Texts are sent in batches of `maxBatchSize`; each attempt has a timeout; network
 * failures, timeouts, 429 and 5xx are retried with backoff (Retry-After honoured, capped).
 *
 * Identity: `openai:<the server's embedder id, else the model name>`: serve-llm reports the GGUF
 * file and its sha256, so a store built through another model is a fingerprint mismatch.
 * Token counts are estimated locally (estimateTokens, scaled by how the server counted a
 * calibration text at creation, plus 30 %; never above UTF-8 bytes + 2, a true bound for WordPiece
 * and BPE): the server is the judge of length and answers `input_too_long`.
 */
import { z } from "zod";
import { AppError, type ErrorCode, isAppError } from "../../errors/index.js";
import type { Embedder, EmbedOptions } from "../port.js";

export type HttpEmbedderOptions = {
  /** The API base, e.g. http://127.0.0.1:8080/v1 (a base with no path gets /v1). */
  baseUrl: string;
  /** The model to ask for; default: the server's first embedding model. */
  model?: string;
  /** Sent as `Authorization: Bearer <key>`. */
  apiKey?: string;
  /** Per HTTP attempt. Default 30 000 ms. */
  timeoutMs?: number;
  /** Extra attempts after a retryable failure. Default 2. */
  retries?: number;
  /** Texts per request. Default: the server's max_inputs, else 64. */
  maxBatchSize?: number;
  /** Default: the server's max_input_tokens, else 8191 (OpenAI's). */
  maxInputTokens?: number;
  /** First retry delay, doubled each time. Default 250 ms. */
  retryDelayMs?: number;
  fetch?: typeof fetch;
  signal?: AbortSignal;
};

export type HttpEmbedder = Embedder & { readonly baseUrl: string; readonly model: string };

export const DEFAULT_HTTP_EMBEDDER_TIMEOUT_MS = 30_000;
export const DEFAULT_HTTP_EMBEDDER_RETRIES = 2;
export const DEFAULT_HTTP_EMBEDDER_BATCH_SIZE = 64;
const DEFAULT_MAX_INPUT_TOKENS = 8191;
const MAX_RETRY_DELAY_MS = 5_000;
const RETRYABLE_STATUS = new Set([408, 429, 500, 502, 503, 504]);

const modelsSchema = z.object({
  data: z.array(
    z.looseObject({
      id: z.string(),
      meta: z
        .looseObject({
          type: z.string().optional(),
          embedder_id: z.string().optional(),
          dimensions: z.number().int().positive().optional(),
          max_input_tokens: z.number().int().positive().optional(),
          max_inputs: z.number().int().positive().optional(),
        })
        .nullish(),
    }),
  ),
});

const embeddingsSchema = z.object({
  data: z.array(z.object({ index: z.number().int().nonnegative(), embedding: z.array(z.number()) })),
  model: z.string().optional(),
  usage: z.looseObject({ prompt_tokens: z.number().int().nonnegative().optional() }).nullish(),
});

/** Embedded once at creation: learns the dimensions and how the server's tokenizer counts. */
const CALIBRATION_TEXT = "## Fine-tuning Llama 3.1 (8B) with LoRA: it's 2× faster, see x.io/a?id=42 & more!";
/** Safety margin over the calibrated estimate. */
const TOKEN_MARGIN = 1.3;

const errorBodySchema = z.object({
  error: z.union([z.string(), z.looseObject({ message: z.string().optional(), code: z.unknown().optional() })]),
});

/** `<base>`, normalised: no trailing slash, /v1 added to a bare origin. */
export function normalizeBaseUrl(baseUrl: string): string {
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    throw new AppError(
      "configuration_error",
      `embedder base URL "${baseUrl}" is not a URL (e.g. http://127.0.0.1:8080/v1)`,
    );
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new AppError("configuration_error", `embedder base URL "${baseUrl}" must be http(s)`);
  }
  const path = url.pathname.replace(/\/+$/, "");
  return `${url.origin}${path === "" ? "/v1" : path}`;
}

export async function createHttpEmbedder(options: HttpEmbedderOptions): Promise<HttpEmbedder> {
  const baseUrl = normalizeBaseUrl(options.baseUrl);
  const fetchImpl = options.fetch ?? fetch;
  const timeoutMs = options.timeoutMs ?? DEFAULT_HTTP_EMBEDDER_TIMEOUT_MS;
  const retries = options.retries ?? DEFAULT_HTTP_EMBEDDER_RETRIES;
  const retryDelayMs = options.retryDelayMs ?? 250;
  for (const [name, value] of [
    ["timeoutMs", timeoutMs],
    ["maxBatchSize", options.maxBatchSize],
    ["maxInputTokens", options.maxInputTokens],
  ] as const) {
    if (value !== undefined && (!Number.isInteger(value) || value <= 0)) {
      throw new AppError("configuration_error", `HTTP embedder: ${name} must be a positive integer, got ${value}`);
    }
  }
  if (!Number.isInteger(retries) || retries < 0) {
    throw new AppError("configuration_error", `HTTP embedder: retries must be a non-negative integer, got ${retries}`);
  }
  const headers: Record<string, string> = { "content-type": "application/json", accept: "application/json" };
  if (options.apiKey !== undefined && options.apiKey !== "") headers.authorization = `Bearer ${options.apiKey}`;

  async function call(path: string, body: unknown, signal: AbortSignal | undefined): Promise<unknown> {
    const url = `${baseUrl}${path}`;
    for (let attempt = 0; ; attempt += 1) {
      if (signal?.aborted === true) throw new AppError("aborted", "embedding was aborted", { cause: signal.reason });
      const attemptSignal =
        signal === undefined
          ? AbortSignal.timeout(timeoutMs)
          : AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]);
      let failure: AppError;
      let retryAfterMs: number | undefined;
      try {
        const response = await fetchImpl(url, {
          method: body === undefined ? "GET" : "POST",
          headers,
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
          signal: attemptSignal,
        });
        const text = await response.text();
        if (response.ok) {
          try {
            return JSON.parse(text) as unknown;
          } catch {
            throw new AppError("upstream_error", `the embedder at ${url} answered something that is not JSON`);
          }
        }
        failure = statusError(url, response.status, text);
        if (!RETRYABLE_STATUS.has(response.status)) throw failure;
        retryAfterMs = retryAfterOf(response.headers.get("retry-after"));
      } catch (error) {
        if (isAppError(error)) throw error;
        if (isAborted(signal)) throw new AppError("aborted", "embedding was aborted", { cause: signal?.reason });
        failure = attemptSignal.aborted
          ? new AppError(
              "timeout",
              `the embedder at ${url} did not answer within ${timeoutMs} ms (--embedder-request-timeout-ms, LLM_TWIN_EMBEDDER_REQUEST_TIMEOUT_MS)`,
              { cause: error },
            )
          : new AppError(
              "upstream_unavailable",
              `cannot reach the embedder at ${url}: ${messageOf(error)}; start it or point --embedder openai:<url> (LLM_TWIN_EMBEDDER) at it`,
              { cause: error },
            );
      }
      if (attempt >= retries) throw failure;
      const delay = Math.min(retryAfterMs ?? retryDelayMs * 2 ** attempt, MAX_RETRY_DELAY_MS);
      await sleep(delay, signal);
    }
  }

  const found = await describeModel(options, await call("/models", undefined, options.signal).catch(ignoreMissing));
  const model = found.model;
  let dimensions = found.dimensions;
  const maxBatchSize = options.maxBatchSize ?? found.maxInputs ?? DEFAULT_HTTP_EMBEDDER_BATCH_SIZE;
  const maxInputTokens = options.maxInputTokens ?? found.maxInputTokens ?? DEFAULT_MAX_INPUT_TOKENS;
  const id = `openai:${found.embedderId ?? model}`;
  let disposed = false;

  let usageTokens: number | undefined;
  async function embedBatch(texts: readonly string[], signal: AbortSignal | undefined): Promise<Float32Array[]> {
    const raw = await call("/embeddings", { model, input: texts, encoding_format: "float" }, signal);
    const parsed = embeddingsSchema.safeParse(raw);
    if (!parsed.success || parsed.data.data.length !== texts.length) {
      throw new AppError(
        "upstream_error",
        `the embedder at ${baseUrl} answered an unexpected body for ${texts.length} inputs`,
      );
    }
    const vectors: Float32Array[] = new Array(texts.length);
    for (const item of parsed.data.data) {
      if (item.index >= texts.length || (dimensions !== undefined && item.embedding.length !== dimensions)) {
        throw new AppError(
          "dimension_mismatch",
          `the embedder at ${baseUrl} returned a ${item.embedding.length}-dimensional vector; expected ${dimensions}`,
        );
      }
      vectors[item.index] = unit(item.embedding, baseUrl);
    }
    usageTokens = parsed.data.usage?.prompt_tokens;
    return vectors;
  }

  // A server whose limit is below the calibration text is asked for one word (and no calibration).
  const [probe] = await embedBatch([CALIBRATION_TEXT], options.signal).catch((error: unknown) => {
    if (!isAppError(error) || error.code !== "input_too_long") throw error;
    usageTokens = undefined;
    return embedBatch(["a"], options.signal);
  });
  dimensions ??= probe?.length ?? 0;
  const size = dimensions;
  // The server's count of the calibration text ÷ the local estimate (never below 1).
  const tokenRatio = Math.max(1, (usageTokens ?? 0) / estimateTokens(CALIBRATION_TEXT));
  const countTokens = (text: string): number =>
    Math.min(Buffer.byteLength(text, "utf8") + 2, Math.ceil(estimateTokens(text) * tokenRatio * TOKEN_MARGIN));

  const dispose = async (): Promise<void> => {
    disposed = true;
  };
  return {
    id,
    dimensions: size,
    maxInputTokens,
    maxBatchSize,
    baseUrl,
    model,
    countTokens,
    async embed(texts: readonly string[], embedOptions: EmbedOptions = {}): Promise<Float32Array[]> {
      if (disposed) throw new AppError("internal_error", `${id} was disposed`);
      const vectors: Float32Array[] = [];
      for (let start = 0; start < texts.length; start += maxBatchSize) {
        vectors.push(...(await embedBatch(texts.slice(start, start + maxBatchSize), embedOptions.signal)));
      }
      return vectors;
    },
    [Symbol.asyncDispose]: dispose,
  };
}

/**
 * An upper estimate of a text's tokens for subword tokenizers, which split on whitespace and
 * punctuation first: every punctuation or symbol character is one token, every word at least one
 * and at most one per two characters, plus two special tokens (BERT's [CLS] and [SEP]).
 */
export function estimateTokens(text: string): number {
  let tokens = 2;
  for (const match of text.matchAll(/[\p{L}\p{N}\p{M}]+|[^\s\p{L}\p{N}\p{M}]/gu)) {
    const piece = match[0];
    tokens += piece.length === 1 ? 1 : Math.ceil(piece.length / 2);
  }
  return tokens;
}

type FoundModel = {
  model: string;
  embedderId?: string;
  dimensions?: number;
  maxInputTokens?: number;
  maxInputs?: number;
};

function describeModel(options: HttpEmbedderOptions, raw: unknown): FoundModel {
  const parsed = raw === undefined ? undefined : modelsSchema.safeParse(raw);
  const entries = parsed?.success === true ? parsed.data.data : [];
  const entry =
    options.model === undefined
      ? entries.find((candidate) => candidate.meta?.type === "embedding")
      : entries.find((candidate) => candidate.id === options.model);
  const model = options.model ?? entry?.id;
  if (model === undefined) {
    throw new AppError(
      "configuration_error",
      `the server at ${options.baseUrl} lists no embedding model: name one with --embedder openai:<base-url>#<model>`,
    );
  }
  const meta = entry?.meta ?? undefined;
  return {
    model,
    ...(meta?.embedder_id === undefined ? {} : { embedderId: meta.embedder_id }),
    ...(meta?.dimensions === undefined ? {} : { dimensions: meta.dimensions }),
    ...(meta?.max_input_tokens === undefined ? {} : { maxInputTokens: meta.max_input_tokens }),
    ...(meta?.max_inputs === undefined ? {} : { maxInputs: meta.max_inputs }),
  };
}

/** A server without GET /models (some proxies): the model must then be named. */
function ignoreMissing(error: unknown): undefined {
  if (isAppError(error) && (error.code === "not_found" || error.code === "configuration_error")) return undefined;
  throw error;
}

function statusError(url: string, status: number, text: string): AppError {
  const parsed = errorBodySchema.safeParse(safeJson(text));
  const upstream = parsed.success ? parsed.data.error : undefined;
  const message = typeof upstream === "string" ? upstream : (upstream?.message ?? text.slice(0, 200));
  const upstreamCode = typeof upstream === "object" ? upstream.code : undefined;
  if (status === 401 || status === 403) {
    return new AppError(
      "unauthorized",
      `the embedder at ${url} refused the request (${status}): set its API key in LLM_TWIN_EMBEDDER_API_KEY`,
    );
  }
  if (status === 404) {
    return new AppError("not_found", `the embedder at ${url} answered 404: ${message}`);
  }
  if (upstreamCode === "input_too_long")
    return new AppError("input_too_long", `the embedder refused an input: ${message}`);
  const code: ErrorCode = status === 429 ? "overloaded" : status >= 500 ? "upstream_unavailable" : "validation_error";
  return new AppError(code, `the embedder at ${url} answered ${status}: ${message}`, {
    details: { status },
  });
}

function unit(values: readonly number[], baseUrl: string): Float32Array {
  let norm = 0;
  for (const value of values) norm += value * value;
  norm = Math.sqrt(norm);
  if (!Number.isFinite(norm) || norm === 0) {
    throw new AppError("upstream_error", `the embedder at ${baseUrl} returned a zero or non-finite vector`);
  }
  return Float32Array.from(values, (value) => value / norm);
}

function retryAfterOf(header: string | null): number | undefined {
  if (header === null) return undefined;
  const seconds = Number(header);
  return Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : undefined;
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      "abort",
      () => {
        clearTimeout(timer);
        reject(new AppError("aborted", "embedding was aborted", { cause: signal.reason }));
      },
      { once: true },
    );
  });
}

function isAborted(signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function messageOf(error: unknown): string {
  const cause = (error as { cause?: { code?: string } })?.cause?.code;
  return cause ?? (error instanceof Error ? error.message : String(error));
}
