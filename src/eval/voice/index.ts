/** Voice: a judge-free stylometric model of each author, its validation and its scores. */
export { readVoiceCorpus, type VoiceCorpus } from "./corpus.js";
export { countFeatures, FUNCTION_WORDS, type TextCounts } from "./features.js";
export {
  buildFromCounted,
  buildVoiceModel,
  type CountedDocument,
  countDocuments,
  DEFAULT_VOICE_OPTIONS,
  resolveAuthor,
  scoreVoice,
  VOICE_METHODS,
  type VoiceDocument,
  type VoiceMethod,
  type VoiceModel,
  type VoiceModelOptions,
  type VoiceScore,
  voiceOf,
} from "./model.js";
export { formatVoiceValidation, type VoiceValidationRun, voiceValidationJson } from "./report.js";
export { type VoiceValidation, validateVoiceModel } from "./validate.js";
