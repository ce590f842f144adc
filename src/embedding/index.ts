export {
  type CreateEmbedderOptions,
  createEmbedder,
  DEFAULT_EMBEDDER_SPEC,
  type EmbedderSpec,
  parseEmbedderSpec,
} from "./create.js";
export {
  AUTO_EMBEDDER_SPEC,
  DEFAULT_EMBEDDING_MODEL,
  isNetworkFailure,
  STATIC_EMBEDDER_SPEC,
} from "./default-model.js";
export type { Embedder, EmbedOptions } from "./port.js";
export {
  createStaticEmbedder,
  DEFAULT_STATIC_MAX_BATCH_SIZE,
  DEFAULT_STATIC_MAX_INPUT_TOKENS,
  defaultCacheDir,
  type StaticEmbedder,
  type StaticEmbedderOptions,
} from "./static/index.js";
