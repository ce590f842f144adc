export {
  createHttpEmbedder,
  DEFAULT_HTTP_EMBEDDER_BATCH_SIZE,
  DEFAULT_HTTP_EMBEDDER_RETRIES,
  DEFAULT_HTTP_EMBEDDER_TIMEOUT_MS,
  type HttpEmbedder,
  type HttpEmbedderOptions,
  normalizeBaseUrl,
} from "./http-embedder.js";
