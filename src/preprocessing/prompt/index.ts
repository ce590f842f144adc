export { type BuildPromptInput, buildPrompt, type PromptTemplate, validateCustomTemplate } from "./build-prompt.js";
export * from "./judge-templates.js";
export {
  ALPACA_PREAMBLE,
  formatAlpaca,
  formatRequestWithContext,
  PROMPT_TEMPLATES_VERSION,
  SYSTEM_PROMPT,
} from "./templates.js";
