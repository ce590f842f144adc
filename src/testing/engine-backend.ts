/**
 * Which engine backend the service tests run on: LLM_TWIN_TEST_ENGINE (set by the
 * "node-llama-cpp" vitest project, vitest.config.ts), else the default (native when built).
 */
import type { EngineBackendName } from "../llm/llama-cpp/index.js";

export function testEngineBackend(): { backend?: EngineBackendName } {
  const value = process.env.LLM_TWIN_TEST_ENGINE;
  if (value === "native" || value === "node-llama-cpp") return { backend: value };
  return {};
}
