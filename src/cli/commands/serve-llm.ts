/**
 * `llm-twin serve-llm`: the LLM microservice (TGI, OpenAI and SageMaker APIs over llama.cpp).
 * Every flag has an environment variable; SageMaker's SAGEMAKER_BIND_TO_PORT is honoured and,
 * without --model, the first .gguf file in /opt/ml/model is served.
 */
import type { Command } from "commander";
import { valuesFromOptions } from "../../config/settings.js";
import { parseLlmServerConfig } from "../../llm-server/config.js";
import { SERVE_LLM_SETTINGS } from "../../llm-server/settings.js";
import { handleServerStop } from "../../runtime/index.js";
import { addSettingOptions } from "../settings-options.js";

export function registerServeLlmCommand(program: Command): void {
  const command = program
    .command("serve-llm")
    .description("Serve a GGUF model over the TGI, OpenAI and SageMaker APIs with continuous batching");
  addSettingOptions(command, SERVE_LLM_SETTINGS);
  command.action(async (options: Record<string, unknown>) => {
    const config = parseLlmServerConfig(valuesFromOptions(SERVE_LLM_SETTINGS, options));
    // Started before the rest: node-llama-cpp tests its prebuilt binary in a child process before
    // loading it, a wait that now overlaps the imports below (src/llm/llama-cpp/shared-llama.ts).
    const llamaStarted = import("../../llm/llama-cpp/shared-llama.js").then(({ startLlama }) => startLlama());
    // Loaded here, not at import: llama.cpp and Fastify are not needed by the other commands.
    const [{ startLlmServer }] = await Promise.all([import("../../llm-server/server.js"), llamaStarted]);
    const starting = startLlmServer(config, { progressStream: process.stderr });
    // Installed before the server is up: a signal during start-up also shuts down gracefully. Bounded
    // by --grace-period inside shutdown(); a second signal exits at once. An error nothing handled:
    // one line, the same graceful shutdown, exit 1 (src/runtime/server-stop.ts).
    const stopHandling = handleServerStop({
      name: "llm-twin serve-llm",
      shutdown: async (reason) => (await starting.catch(() => undefined))?.shutdown(reason),
      gracefulMs: config.gracePeriodSeconds * 1000,
    });
    try {
      const server = await starting;
      try {
        await Promise.all([server.ready, server.embeddingsReady]);
      } catch (error) {
        await server.shutdown("model failed to load");
        throw error;
      }
    } catch (error) {
      stopHandling();
      throw error;
    }
    // Keeps serving until a signal arrives.
    await new Promise<never>(() => undefined);
  });
}
