/**
 * Which engine backend the service tests run on: LLM_TWIN_TEST_ENGINE (set by the
 * "node-llama-cpp" vitest project, vitest.config.ts), else the default (native when built).
 */
import { type EngineBackendName, isEngineBackendName } from "../llm/llama-cpp/decode-port.js";

export function testEngineBackend(): { backend?: EngineBackendName } {
  const value = process.env.LLM_TWIN_TEST_ENGINE;
  if (isEngineBackendName(value)) return { backend: value };
  return {};
}
