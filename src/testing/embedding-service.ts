/**
 * Test helper: a real serve-llm on loopback (tiny generated chat model, one thread) with a
 * generated BERT GGUF as --embedding-model, for the /v1/embeddings and HTTP embedder tests.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type GenerateBertGgufOptions, generateBertGguf, TINY_BERT_OPTIONS, tinyModelPath } from "../gguf/index.js";
import { parseLlmServerConfig } from "../llm-server/config.js";
import { type RunningLlmServer, startLlmServer } from "../llm-server/server.js";

export type EmbeddingService = {
  server: RunningLlmServer;
  /** http://127.0.0.1:<port> */
  url: string;
  bertPath: string;
  close(): Promise<void>;
};

export async function startEmbeddingService(
  options: { bert?: Partial<GenerateBertGgufOptions>; config?: Record<string, unknown> } = {},
): Promise<EmbeddingService> {
  const directory = await mkdtemp(join(tmpdir(), "llm-twin-embedding-service-"));
  const bert = await generateBertGguf(join(directory, "tiny-bert.gguf"), { ...TINY_BERT_OPTIONS, ...options.bert });
  const server = await startLlmServer(
    parseLlmServerConfig({
      model: await tinyModelPath("chat"),
      embeddingModel: bert.path,
      cacheDir: directory,
      host: "127.0.0.1",
      port: 0,
      parallel: 1,
      threads: 1,
      logLevel: "silent",
      ...options.config,
    }),
  );
  try {
    await Promise.all([server.ready, server.embeddingsReady]);
  } catch (error) {
    await server.shutdown();
    await rm(directory, { recursive: true, force: true });
    throw error;
  }
  return {
    server,
    url: server.url,
    bertPath: bert.path,
    async close() {
      await server.shutdown();
      await rm(directory, { recursive: true, force: true });
    },
  };
}
