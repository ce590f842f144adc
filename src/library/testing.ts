/**
 * `import { … } from "llm-twin/testing"`: valid GGUF files with random weights, generated on this
 * machine (a tiny chat model, a reranker, custom shapes), for tests and offline demos that must not
 * download a model. Their text is meaningless; the mechanics (loading, streaming, limits) are real.
 */
export {
  type GeneratedGguf,
  type GenerateGgufOptions,
  type GgufArchitecture,
  generateGguf,
  TINY_MODEL_PRESETS,
  type TinyModelPreset,
  tinyModelPath,
} from "../gguf/index.js";
