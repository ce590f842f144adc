export { type Admission, type AdmissionOptions, createAdmission } from "./admission.js";
export { ENGINE_BACKENDS, type EngineBackendName, isEngineBackendName } from "./decode-port.js";
export {
  createLlamaCppEngine,
  DEFAULT_MAX_CHOICES,
  defaultBackend,
  describeEngineForLog,
  type EngineEvent,
  type EngineObserver,
  type EngineRequest,
  type EngineStats,
  type LlamaCppEngine,
  type LlamaCppEngineOptions,
} from "./engine.js";
export { type ChoiceEvent, checkChoices, choiceLimit, runChoices } from "./engine-choices.js";
export { MAX_TOP_LOGPROBS, type TopToken } from "./engine-types.js";
export { createLlamaCppLanguageModel, type LlamaCppLanguageModel, languageModelFromEngine } from "./language-model.js";
export { checkTokenLimits, type TokenLimits } from "./limits.js";
export {
  describeLoraModeForLog,
  LORA_MODES,
  type LoraMode,
  type LoraModeDecision,
  unusedLoraOptionsWarning,
} from "./lora-mode.js";
export { defaultThreads, defaultThreadsBatch, describeForLog, describeRuntime, type LlamaRuntime } from "./runtime.js";
export { createIncrementalDetokenizer, createStopMatcher } from "./text-output.js";
