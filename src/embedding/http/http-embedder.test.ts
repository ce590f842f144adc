/**
 * The HTTP embedder: the Embedder contract against a real serve-llm with a generated BERT GGUF as
 * --embedding-model; its identity (a different served model is a fingerprint mismatch); API keys;
 * retries and timeouts against a scripted loopback server.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createFingerprint, describeFingerprintDifferences } from "../../preprocessing/fingerprint.js";
import { type EmbeddingService, startEmbeddingService } from "../../testing/embedding-service.js";
import { createEmbedder, parseEmbedderSpec } from "../create.js";
import { createLlamaCppEmbedder } from "../llama-cpp/index.js";
import { describeEmbedderContract } from "../testing/embedder-contract.js";
import { createHttpEmbedder, normalizeBaseUrl } from "./index.js";

let service: EmbeddingService;
beforeAll(async () => {
  service = await startEmbeddingService({ config: { apiKeys: "key-1" } });
}, 120_000);
afterAll(async () => {
  await service?.close();
});

describeEmbedderContract("openai (HTTP, against serve-llm --embedding-model)", () =>
  createEmbedder(`openai:${service.url}/v1`, { http: { apiKey: "key-1" }, maxBatchSize: 3 }),
);

describe("HTTP embedder", () => {
  it("parses openai:<base-url>[#model] and normalises the base", () => {
    expect(parseEmbedderSpec("openai:http://127.0.0.1:8080/v1#bge")).toEqual({
      kind: "openai",
      baseUrl: "http://127.0.0.1:8080/v1",
      model: "bge",
    });
    expect(parseEmbedderSpec("openai:https://api.openai.com/v1")).toEqual({
      kind: "openai",
      baseUrl: "https://api.openai.com/v1",
    });
    expect(() => parseEmbedderSpec("openai:localhost:8080")).toThrow(/http\(s\) base URL/);
    expect(normalizeBaseUrl("http://127.0.0.1:8080")).toBe("http://127.0.0.1:8080/v1");
    expect(normalizeBaseUrl("http://127.0.0.1:8080/v1/")).toBe("http://127.0.0.1:8080/v1");
  });

  it("takes the served model's identity: same vectors as the GGUF file, a mismatch when the model changes", async () => {
    const remote = await createHttpEmbedder({ baseUrl: service.url, apiKey: "key-1" });
    const local = await createLlamaCppEmbedder({ source: service.bertPath, threads: 1 });
    try {
      expect(remote.id).toBe(`openai:${local.id}`);
      expect(remote.dimensions).toBe(local.dimensions);
      expect(remote.maxInputTokens).toBe(local.maxInputTokens);
      const [fromRemote] = await remote.embed(["fine tuning a model"]);
      const [fromLocal] = await local.embed(["fine tuning a model"]);
      for (const [index, value] of (fromLocal ?? []).entries()) expect(fromRemote?.[index]).toBeCloseTo(value, 5);
    } finally {
      await local[Symbol.asyncDispose]();
    }
    const other = await startEmbeddingService({ bert: { seed: 99 } });
    try {
      const otherRemote = await createHttpEmbedder({ baseUrl: `${other.url}/v1` });
      expect(otherRemote.id).not.toBe(remote.id);
      const differences = describeFingerprintDifferences(createFingerprint(remote), createFingerprint(otherRemote));
      expect(differences.some((line) => line.startsWith("embedder.id:"))).toBe(true);
    } finally {
      await other.close();
    }
  }, 120_000);

  it("counts tokens at or above the server's count (calibrated at creation), so chunks fit", async () => {
    const embedder = await createHttpEmbedder({ baseUrl: service.url, apiKey: "key-1" });
    const texts = [
      "performance and customizability at a lower cost. In this article, we provide an overview",
      "## 🔧 Supervised Fine-Tuning\n\n  * Loops in Pandas — what is a Tensor?",
      "Llama 3.1 8B in Google Colab with state-of-the-art optimization (Unsloth), 2024-07-23.",
    ];
    for (const text of texts) {
      const response = await fetch(`${service.url}/v1/embeddings`, {
        method: "POST",
        headers: { authorization: "Bearer key-1", "content-type": "application/json" },
        body: JSON.stringify({ input: text }),
      });
      const served = ((await response.json()) as { usage: { prompt_tokens: number } }).usage.prompt_tokens;
      expect(embedder.countTokens(text), text).toBeGreaterThanOrEqual(served);
      expect(embedder.countTokens(text)).toBeLessThanOrEqual(Buffer.byteLength(text) + 2);
    }
  });

  it("sends the API key; a missing or wrong key is `unauthorized` naming LLM_TWIN_EMBEDDER_API_KEY", async () => {
    await expect(createHttpEmbedder({ baseUrl: service.url })).rejects.toMatchObject({
      code: "unauthorized",
      message: expect.stringContaining("LLM_TWIN_EMBEDDER_API_KEY"),
    });
    await expect(createHttpEmbedder({ baseUrl: service.url, apiKey: "wrong" })).rejects.toMatchObject({
      code: "unauthorized",
    });
  });
});

describe("HTTP embedder against a scripted server", () => {
  let server: Server;
  let base: string;
  let handler: (request: IncomingMessage, response: ServerResponse, body: string) => void;
  const embeddingsBody = (count: number) =>
    JSON.stringify({
      object: "list",
      model: "m",
      data: Array.from({ length: count }, (_, index) => ({ object: "embedding", index, embedding: [3, 4] })),
    });
  beforeAll(async () => {
    server = createServer((request, response) => {
      let body = "";
      request.on("data", (chunk: Buffer) => {
        body += chunk.toString();
      });
      request.on("end", () => handler(request, response, body));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it("retries 503 and 429 (Retry-After honoured), batches, normalises, and probes dimensions without /models", async () => {
    let embeddingCalls = 0;
    const batches: number[] = [];
    handler = (request, response, body) => {
      if (request.url === "/v1/models") {
        response.writeHead(404).end();
        return;
      }
      embeddingCalls += 1;
      if (embeddingCalls === 2) {
        response.writeHead(503, { "retry-after": "0" }).end('{"error":{"message":"loading"}}');
        return;
      }
      if (embeddingCalls === 3) {
        response.writeHead(429).end('{"error":{"message":"busy"}}');
        return;
      }
      const input = (JSON.parse(body) as { input: string[] }).input;
      batches.push(input.length);
      response.writeHead(200, { "content-type": "application/json" }).end(embeddingsBody(input.length));
    };
    const embedder = await createHttpEmbedder({ baseUrl: base, model: "m", maxBatchSize: 2, retryDelayMs: 1 });
    expect(embedder.id).toBe("openai:m");
    expect(embedder.dimensions).toBe(2);
    const vectors = await embedder.embed(["a", "b", "c"]);
    expect(vectors).toHaveLength(3);
    expect(Array.from(vectors[0] ?? [])).toEqual([expect.closeTo(0.6, 5), expect.closeTo(0.8, 5)]);
    expect(batches).toEqual([1, 2, 1]);
  });

  it("gives up after the retries with a clear error; a timeout is `timeout`; a refused connection `upstream_unavailable`", async () => {
    handler = (_request, response) => {
      response.writeHead(502).end("bad gateway");
    };
    await expect(createHttpEmbedder({ baseUrl: base, model: "m", retries: 1, retryDelayMs: 1 })).rejects.toMatchObject({
      code: "upstream_unavailable",
      message: expect.stringContaining("502"),
    });
    handler = () => {
      // never answers
    };
    await expect(createHttpEmbedder({ baseUrl: base, model: "m", retries: 0, timeoutMs: 50 })).rejects.toMatchObject({
      code: "timeout",
    });
    await expect(
      createHttpEmbedder({ baseUrl: "http://127.0.0.1:1/v1", model: "m", retries: 0 }),
    ).rejects.toMatchObject({ code: "upstream_unavailable", message: expect.stringContaining("127.0.0.1:1") });
  });

  it("a server listing no embedding model asks for #model", async () => {
    handler = (_request, response) => {
      response.writeHead(200, { "content-type": "application/json" }).end('{"object":"list","data":[{"id":"chat"}]}');
    };
    await expect(createHttpEmbedder({ baseUrl: base })).rejects.toMatchObject({
      code: "configuration_error",
      message: expect.stringContaining("#<model>"),
    });
  });
});
