export {
  BERT_POOLING,
  type BertPooling,
  buildBertVocabulary,
  type GenerateBertGgufOptions,
  type GeneratedBertGguf,
  generateBertGguf,
  TINY_BERT_OPTIONS,
} from "./bert.js";
export { type GeneratedGguf, type GenerateGgufOptions, type GgufArchitecture, generateGguf } from "./generate-gguf.js";
export { type GenerateLoraOptions, generateLora, type LoraTarget } from "./generate-lora.js";
export {
  llmTwinCacheDirectory,
  optionsHash,
  TINY_MODEL_PRESETS,
  type TinyModelPreset,
  tinyModelPath,
} from "./tiny-model-path.js";
export { CHATML_TEMPLATE, RERANK_TEMPLATE } from "./vocabulary.js";
