/**
 * POST /v1/embeddings through the official `openai` client against a real serve-llm whose
 * --embedding-model is a generated BERT GGUF; limits and refusals; /v1/models and /info.
 */
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildLlmServerApp } from "../../src/llm-server/app.js";
import { createLlmServerMetrics } from "../../src/llm-server/metrics.js";
import { createModelHolder } from "../../src/llm-server/model-holder.js";
import { type EmbeddingService, startEmbeddingService } from "../../src/testing/embedding-service.js";

let service: EmbeddingService;
let client: OpenAI;
beforeAll(async () => {
  service = await startEmbeddingService({ config: { embeddingMaxInputs: 4, embeddingMaxInputTokens: 32 } });
  client = new OpenAI({ baseURL: `${service.url}/v1`, apiKey: "unused", maxRetries: 0 });
}, 120_000);
afterAll(async () => {
  await service?.close();
});

const norm = (values: readonly number[]): number => Math.sqrt(values.reduce((sum, value) => sum + value * value, 0));

describe("/v1/embeddings", () => {
  it("embeds a string and a list of strings (unit vectors, usage counted) through the openai client", async () => {
    const one = await client.embeddings.create({
      model: "tiny-bert",
      input: "vector search",
      encoding_format: "float",
    });
    expect(one.object).toBe("list");
    expect(one.model).toBe("tiny-bert");
    expect(one.data).toHaveLength(1);
    expect(one.data[0]?.embedding).toHaveLength(384);
    expect(norm(one.data[0]?.embedding ?? [])).toBeCloseTo(1, 4);
    expect(one.usage.prompt_tokens).toBeGreaterThan(0);
    expect(one.usage.total_tokens).toBe(one.usage.prompt_tokens);

    const many = await client.embeddings.create({
      model: "tiny-bert",
      input: ["the model", "vector search"],
      encoding_format: "float",
    });
    expect(many.data.map((item) => item.index)).toEqual([0, 1]);
    expect(many.data[1]?.embedding[0]).toBeCloseTo(one.data[0]?.embedding[0] ?? Number.NaN, 5);
  });

  it("base64 (the client's default) decodes to the same floats", async () => {
    const floats = await client.embeddings.create({
      model: "tiny-bert",
      input: "what is rag",
      encoding_format: "float",
    });
    // The client asks for base64 by default and decodes it into numbers.
    const decoded = await client.embeddings.create({ model: "tiny-bert", input: "what is rag" });
    expect(decoded.data[0]?.embedding).toHaveLength(384);
    for (const [index, value] of (floats.data[0]?.embedding ?? []).entries()) {
      expect(decoded.data[0]?.embedding[index]).toBeCloseTo(value, 6);
    }
  });

  it("accepts token-id inputs", async () => {
    const response = await client.embeddings.create({
      model: "tiny-bert",
      input: [
        [2, 10, 11, 3],
        [2, 12, 3],
      ],
      encoding_format: "float",
    });
    expect(response.data).toHaveLength(2);
    expect(response.usage.prompt_tokens).toBe(7);
    const single = await client.embeddings.create({ model: "tiny-bert", input: [2, 12, 3], encoding_format: "float" });
    expect(single.data[0]?.embedding[3]).toBeCloseTo(response.data[1]?.embedding[3] ?? Number.NaN, 5);
  });

  it("refuses other dimensions, too many inputs, too long inputs and unknown token ids with 422", async () => {
    await expect(client.embeddings.create({ model: "tiny-bert", input: "x", dimensions: 128 })).rejects.toMatchObject({
      status: 422,
      message: expect.stringContaining("dimensions"),
      param: "dimensions",
    });
    await expect(client.embeddings.create({ model: "tiny-bert", input: "x", dimensions: 384 })).resolves.toBeDefined();
    await expect(
      client.embeddings.create({ model: "tiny-bert", input: ["a", "b", "c", "d", "e"] }),
    ).rejects.toMatchObject({
      status: 422,
      message: expect.stringContaining("--embedding-max-inputs"),
      param: "input",
    });
    await expect(client.embeddings.create({ model: "tiny-bert", input: "model ".repeat(40) })).rejects.toMatchObject({
      status: 422,
      code: "input_too_long",
      param: "input",
    });
    await expect(client.embeddings.create({ model: "tiny-bert", input: [[999_999]] })).rejects.toMatchObject({
      status: 422,
      param: "input",
    });
  });

  it("its name as the model of a chat or text completion is 422 naming the generation model", async () => {
    const messages = [{ role: "user" as const, content: "hi" }];
    for (const call of [
      () => client.chat.completions.create({ model: "tiny-bert", messages, max_tokens: 2 }),
      () => client.completions.create({ model: "tiny-bert", prompt: "hi", max_tokens: 2 }),
    ]) {
      await expect(call()).rejects.toMatchObject({
        status: 422,
        param: "model",
        message: expect.stringMatching(/'tiny-bert' is the embedding model \(POST \/v1\/embeddings\); generate with '/),
      });
    }
  });

  it("is listed in /v1/models and /info with its dimensions and limits", async () => {
    const models = await client.models.list();
    const entry = models.data.find((model) => model.id === "tiny-bert") as unknown as {
      meta: Record<string, unknown>;
    };
    expect(entry.meta).toMatchObject({
      type: "embedding",
      dimensions: 384,
      max_input_tokens: 32,
      max_inputs: 4,
      registry: null,
    });
    expect(String(entry.meta.embedder_id)).toMatch(/^gguf:tiny-bert\.gguf@[0-9a-f]{12}$/);
    const info = (await (await fetch(`${service.url}/info`)).json()) as { embedding_model: Record<string, unknown> };
    expect(info.embedding_model).toMatchObject({ state: "ready", id: "tiny-bert", dimensions: 384 });
  });
});

describe("/v1/embeddings without --embedding-model", () => {
  it("is 404 embeddings_not_configured, naming the flag; /info says null", async () => {
    const holder = createModelHolder();
    const app = buildLlmServerApp({ holder, metrics: createLlmServerMetrics(holder), bodyLimitBytes: 65_536 });
    const response = await app.inject({ method: "POST", url: "/v1/embeddings", payload: { input: "x" } });
    expect(response.statusCode).toBe(404);
    const body = response.json() as { error: { code: string; message: string } };
    expect(body.error.code).toBe("embeddings_not_configured");
    expect(body.error.message).toContain("--embedding-model");
    await app.close();
  });
});
