export {
  createLlamaCppEmbedder,
  DEFAULT_GGUF_MAX_BATCH_SIZE,
  type LlamaCppEmbedder,
  type LlamaCppEmbedderOptions,
} from "./llama-cpp-embedder.js";
