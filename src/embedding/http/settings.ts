/**
 * The HTTP embedder's settings (`--embedder openai:<base-url>`): one block in the configuration
 * registry (src/config/settings.ts), shared by every command that takes --embedder (ingest, the
 * worker, serve, serve-rag, eval retrieval, eval generation). The API key stays in
 * LLM_TWIN_EMBEDDER_API_KEY only (a secret: never on the command line).
 */
import { z } from "zod";
import { type Setting, schemas } from "../../config/settings.js";
import { DEFAULT_HTTP_EMBEDDER_RETRIES, DEFAULT_HTTP_EMBEDDER_TIMEOUT_MS } from "./http-embedder.js";

export const HTTP_EMBEDDER_SETTINGS = [
  {
    key: "embedderRequestTimeoutMs",
    flag: "--embedder-request-timeout-ms <ms>",
    env: "LLM_TWIN_EMBEDDER_REQUEST_TIMEOUT_MS",
    schema: schemas.positiveInteger,
    default: String(DEFAULT_HTTP_EMBEDDER_TIMEOUT_MS),
    help: "HTTP embedder (openai:): timeout of each HTTP attempt (error code timeout once the retries are spent)",
  },
  {
    key: "embedderRetries",
    flag: "--embedder-retries <n>",
    env: "LLM_TWIN_EMBEDDER_RETRIES",
    schema: z.coerce.number({ error: "must be a number" }).int("must be an integer").min(0, "must be >= 0"),
    default: String(DEFAULT_HTTP_EMBEDDER_RETRIES),
    help: "HTTP embedder (openai:): retries after a network failure, timeout, 429 or 5xx",
  },
] as const satisfies readonly Setting[];

/** The parsed values of HTTP_EMBEDDER_SETTINGS, as createEmbedder's `http` option. */
export function httpEmbedderOptions(values: { embedderRequestTimeoutMs: number; embedderRetries: number }): {
  timeoutMs: number;
  retries: number;
} {
  return { timeoutMs: values.embedderRequestTimeoutMs, retries: values.embedderRetries };
}
