/**
 * serve-llm serves OpenAPI and Swagger UI like the RAG service: its routes' zod schemas are the
 * documented request bodies; a body its schema refuses keeps each API's error shape and message.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildLlmServerApp } from "../../src/llm-server/app.js";
import { createLlmServerMetrics } from "../../src/llm-server/metrics.js";
import { createModelHolder } from "../../src/llm-server/model-holder.js";

describe("serve-llm's OpenAPI", () => {
  const holder = createModelHolder();
  const app = buildLlmServerApp({ holder, metrics: createLlmServerMetrics(holder), bodyLimitBytes: 4096 });
  beforeAll(async () => {
    await app.ready();
  });
  afterAll(async () => app.close());

  it("documents every API route with its request body at /docs/json, and serves /docs", async () => {
    const response = await app.inject({ method: "GET", url: "/docs/json" });
    expect(response.statusCode).toBe(200);
    const document = response.json<{ openapi: string; paths: Record<string, Record<string, unknown>> }>();
    expect(document.openapi).toMatch(/^3\./);
    for (const path of ["/generate", "/generate_stream", "/v1/completions", "/v1/chat/completions", "/invocations"]) {
      const post = document.paths[path]?.post as { requestBody?: { content: Record<string, { schema: unknown }> } };
      expect(post?.requestBody?.content["application/json"]?.schema, path).toBeDefined();
    }
    const generate = document.paths["/generate"]?.post as {
      requestBody: { content: { "application/json": { schema: { properties: Record<string, unknown> } } } };
    };
    expect(Object.keys(generate.requestBody.content["application/json"].schema.properties)).toEqual(
      expect.arrayContaining(["inputs", "parameters", "stream"]),
    );
    for (const path of ["/info", "/health", "/v1/models", "/ping"]) expect(document.paths[path], path).toBeDefined();
    expect(document.paths["/metrics"]).toBeUndefined();
    const ui = await app.inject({ method: "GET", url: "/docs/" });
    expect(ui.statusCode).toBe(200);
    expect(ui.headers["content-type"]).toContain("text/html");
  });

  it("a body the schema refuses is 422 in TGI's shape on TGI routes and OpenAI's on /v1, before the model is needed", async () => {
    const tgi = await app.inject({
      method: "POST",
      url: "/generate",
      payload: { inputs: "x", parameters: { max_tokens: 3 } },
    });
    expect(tgi.statusCode).toBe(422);
    expect(tgi.json()).toEqual({ error: expect.stringContaining("`parameters.max_tokens`"), error_type: "validation" });
    const openAi = await app.inject({ method: "POST", url: "/v1/completions", payload: { prompt: 42 } });
    expect(openAi.statusCode).toBe(422);
    expect(openAi.json().error).toMatchObject({
      type: "invalid_request_error",
      message: expect.stringContaining("`prompt`"),
    });
    const empty = await app.inject({
      method: "POST",
      url: "/generate",
      payload: "",
      headers: { "content-type": "application/json" },
    });
    expect(empty.statusCode).toBe(422);
    expect(empty.json().error).toContain("the request body is empty");
  });
});
