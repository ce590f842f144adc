export { buildLlmServerApp, type LlmServerAppOptions } from "./app.js";
export { type LlmServerConfig, parseLlmServerConfig, sageMakerModelFile } from "./config.js";
export { createLlmServerMetrics, type LlmServerMetrics } from "./metrics.js";
export { createModelHolder, type ModelHolder, type ModelState } from "./model-holder.js";
export { type RunningLlmServer, type StartLlmServerOptions, startLlmServer } from "./server.js";
export { SERVE_LLM_SETTINGS } from "./settings.js";
