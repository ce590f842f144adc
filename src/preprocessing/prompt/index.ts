export { type BuildPromptInput, buildPrompt, type PromptTemplate, validateCustomTemplate } from "./build-prompt.js";
export {
  createPromptFingerprint,
  currentPromptFingerprint,
  PROMPT_TEMPLATE_VERSIONS,
  type PromptFingerprintOptions,
  type PromptTemplateRenderings,
  type PromptTemplatesFingerprint,
  type PromptTemplateVersions,
  renderPromptTemplates,
} from "./fingerprint.js";
export * from "./judge-templates.js";
export {
  ALPACA_PREAMBLE,
  CONDENSE_PROMPT_VERSION,
  type ConversationTurn,
  formatAlpaca,
  formatCondensePrompt,
  formatHistory,
  formatRequestWithContext,
  PROMPT_TEMPLATES_VERSION,
  SYSTEM_PROMPT,
} from "./templates.js";
