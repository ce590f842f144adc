export type { HttpClientOptions } from "./client-options.js";
export {
  createLanguageModelFromUrl,
  type LanguageModelApi,
  type LanguageModelFromUrlOptions,
} from "./from-url.js";
export { createOpenAiLanguageModel, type OpenAiLanguageModelOptions } from "./openai-client.js";
export { createSageMakerLanguageModel, type SageMakerLanguageModelOptions } from "./sagemaker-client.js";
export { createSseParser, parseSseStream, type ServerSentEvent, type SseParser } from "./sse-parser.js";
export { createTgiLanguageModel, type TgiLanguageModelOptions } from "./tgi-client.js";
