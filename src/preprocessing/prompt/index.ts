export { type BuildPromptInput, buildPrompt, type PromptTemplate, validateCustomTemplate } from "./build-prompt.js";
export * from "./judge-templates.js";
export {
  ALPACA_PREAMBLE,
  type ConversationTurn,
  formatAlpaca,
  formatCondensePrompt,
  formatHistory,
  formatRequestWithContext,
  PROMPT_TEMPLATES_VERSION,
  SYSTEM_PROMPT,
} from "./templates.js";
