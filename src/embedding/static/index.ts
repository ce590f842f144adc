export {
  createStaticEmbedder,
  DEFAULT_STATIC_MAX_BATCH_SIZE,
  DEFAULT_STATIC_MAX_INPUT_TOKENS,
  pseudoRandomUnitVector,
  type StaticEmbedder,
  type StaticEmbedderOptions,
} from "./static-embedder.js";
export { countTokens, tokenize } from "./tokenizer.js";
export { cacheFilePath, defaultCacheDir, WINK_PACKAGE } from "./word-vector-cache.js";
