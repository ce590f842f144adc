/**
 * Test helpers: the LLM service on the generated tiny "chat" model, in-process (inject) or
 * listening on a random loopback port. One llama.cpp thread keeps tests stable on a busy 2-core box.
 */
import type { FastifyInstance } from "fastify";
import { expect } from "vitest";
import { tinyModelPath } from "../../src/gguf/index.js";
import { createLlamaCppEngine, type LlamaCppEngineOptions } from "../../src/llm/llama-cpp/index.js";
import { buildLlmServerApp } from "../../src/llm-server/app.js";
import { createLlmServerMetrics } from "../../src/llm-server/metrics.js";
import { createModelHolder, type ModelHolder } from "../../src/llm-server/model-holder.js";
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
