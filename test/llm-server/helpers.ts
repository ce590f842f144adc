/**
 * Test helpers: the LLM service on the generated tiny "chat" model, in-process (inject) or
 * listening on a random loopback port. One llama.cpp thread keeps tests stable on a busy 2-core box.
 */
import type { FastifyInstance } from "fastify";
import OpenAI from "openai";
import { expect } from "vitest";
import { tinyModelPath } from "../../src/gguf/index.js";
import { createLlamaCppEngine, type LlamaCppEngineOptions } from "../../src/llm/llama-cpp/index.js";
import { buildLlmServerApp } from "../../src/llm-server/app.js";
import { parseLlmServerConfig } from "../../src/llm-server/config.js";
import { createLlmServerMetrics } from "../../src/llm-server/metrics.js";
import { createModelHolder, type ModelHolder } from "../../src/llm-server/model-holder.js";
import { type RunningLlmServer, startLlmServer } from "../../src/llm-server/server.js";
import { testEngineBackend } from "../../src/testing/engine-backend.js";

export type TestService = {
  app: FastifyInstance;
  holder: ModelHolder;
  close(): Promise<void>;
};

export async function startTestService(
  engineOptions: Partial<LlamaCppEngineOptions> = {},
  appOptions: { bodyLimitBytes?: number } = {},
): Promise<TestService> {
  const holder = createModelHolder();
  const metrics = createLlmServerMetrics(holder);
  const app = buildLlmServerApp({ holder, metrics, bodyLimitBytes: appOptions.bodyLimitBytes ?? 65_536 });
  const engine = await createLlamaCppEngine({
    modelPath: await tinyModelPath("chat"),
    modelId: "tiny-chat",
    threads: 1,
    parallel: 2,
    observer: metrics.observer,
    ...testEngineBackend(),
    ...engineOptions,
  });
  holder.setReady(engine);
  return {
    app,
    holder,
    async close() {
      await app.close();
      await engine.dispose();
    },
  };
}

/**
 * serve-llm listening on loopback (tiny chat model, two sequences, one thread, the test engine)
 * with the official `openai` client on its /v1; `config` adds or overrides serve-llm settings.
 */
export async function startOpenAiServer(
  config: Record<string, unknown> = {},
): Promise<{ server: RunningLlmServer; client: OpenAI }> {
  const server = await startLlmServer(
    parseLlmServerConfig({
      model: await tinyModelPath("chat"),
      host: "127.0.0.1",
      port: 0,
      parallel: 2,
      threads: 1,
      logLevel: "silent",
      engine: testEngineBackend().backend,
      ...config,
    }),
  );
  await server.ready;
  return { server, client: new OpenAI({ baseURL: `${server.url}/v1`, apiKey: "unused", maxRetries: 0 }) };
}

/**
 * A generation on the service's engine that holds its sequence: resolves once its first token is
 * out; the caller ends it with `return()`.
 */
export async function generationPastFirstToken(
  service: TestService,
): Promise<ReturnType<ReturnType<ModelHolder["require"]>["run"]>> {
  const running = service.holder.require().run({
    input: { prompt: "The twin writes" },
    parameters: { temperature: 0, maxNewTokens: 50, ignoreEos: true },
  });
  for (let next = await running.next(); next.done !== true; next = await running.next()) {
    if (next.value.type === "token") break;
  }
  return running;
}

/** Parses an SSE body into the payloads of its `data:` lines. */
export function sseData(body: string): string[] {
  return body
    .split("\n\n")
    .filter((block) => block.trim() !== "")
    .map((block) => {
      expect(block.startsWith("data:")).toBe(true);
      return block.slice("data:".length).trim();
    });
}

/** The value of an unlabeled (or exactly-labeled) metric line in a Prometheus text body. */
export function metricValue(body: string, name: string): number {
  const line = body.split("\n").find((candidate) => candidate.startsWith(`${name} `));
  if (line === undefined) throw new Error(`metric ${name} not found`);
  return Number(line.slice(name.length + 1));
}

export async function waitFor(check: () => Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}
