import { describe, expect, it } from "vitest";
import type { AppError } from "../../src/errors/index.js";
import { createLanguageModelFromUrl, createOpenAiLanguageModel } from "../../src/llm/clients/index.js";
import { openAiChatChunks, sendJson, sendSse } from "./fake-server.js";
import { collect, useFakeServers } from "./test-support.js";

const fake = useFakeServers();

const models = { object: "list", data: [{ id: "llama-3-8b", object: "model", owned_by: "me" }] };

describe("OpenAI-compatible client", () => {
  it("sends {prompt} to /v1/completions with OpenAI and extra sampling fields and the bearer key", async () => {
    const server = await fake((_request, response) =>
      sendJson(response, 200, {
        id: "cmpl-1",
        object: "text_completion",
        choices: [{ index: 0, text: " there", logprobs: null, finish_reason: "length" }],
        usage: { prompt_tokens: 2, completion_tokens: 1, total_tokens: 3 },
      }),
    );
    const model = createOpenAiLanguageModel({ url: `${server.url}/v1`, model: "twin", apiKey: "sk-test" });
    const result = await model.generate({
      prompt: "Hi",
      maxNewTokens: 1,
      temperature: 0,
      topK: 5,
      topP: 0.5,
      repetitionPenalty: 1.2,
      stop: ["."],
      seed: 1,
      logitBias: { 10: -Infinity, 11: 2 },
      jsonSchema: { type: "object" },
    });
    expect(result).toEqual({ text: " there", finishReason: "length", usage: { promptTokens: 2, completionTokens: 1 } });
    const request = server.requests[0];
    expect(request?.path).toBe("/v1/completions");
    expect(request?.headers.authorization).toBe("Bearer sk-test");
    expect(request?.body).toEqual({
      model: "twin",
      prompt: "Hi",
      max_tokens: 1,
      temperature: 0,
      top_p: 0.5,
      stop: ["."],
      seed: 1,
      top_k: 5,
      repetition_penalty: 1.2,
      logit_bias: { 10: -100, 11: 2 },
      response_format: { type: "json_schema", json_schema: { name: "output", schema: { type: "object" } } },
      stream: false,
    });
  });

  it("uses the first model from GET /v1/models when no model is configured, once", async () => {
    const server = await fake((request, response) => {
      if (request.path === "/v1/models") sendJson(response, 200, models);
      else
        sendJson(response, 200, {
          choices: [{ index: 0, message: { role: "assistant", content: "ok" }, finish_reason: "stop" }],
          usage: { prompt_tokens: 3, completion_tokens: 1 },
        });
    });
    const model = createOpenAiLanguageModel({ url: server.url });
    await model.generate({ messages: [{ role: "user", content: "a" }] });
    await model.generate({ messages: [{ role: "user", content: "b" }] });
    expect(server.requests.map((request) => request.path)).toEqual([
      "/v1/models",
      "/v1/chat/completions",
      "/v1/chat/completions",
    ]);
    expect(server.requests[1]?.body).toMatchObject({ model: "llama-3-8b", messages: [{ role: "user", content: "a" }] });
  });

  it("streams chat chunks until [DONE], reading usage from the usage chunk", async () => {
    const server = await fake((_request, response) =>
      sendSse(response, openAiChatChunks(["Hel", "lo"], "length", 8), { splitEvery: 5 }),
    );
    const model = createOpenAiLanguageModel({ url: server.url, model: "m" });
    expect(await collect(model.stream({ messages: [{ role: "user", content: "x" }], maxNewTokens: 2 }))).toEqual([
      { type: "token", text: "Hel" },
      { type: "token", text: "lo" },
      { type: "done", finishReason: "length", usage: { promptTokens: 8, completionTokens: 2 } },
    ]);
    expect(server.requests[0]?.body).toMatchObject({
      stream: true,
      stream_options: { include_usage: true },
      max_tokens: 2,
    });
  });

  it("streams completions; without usage it counts content chunks", async () => {
    const chunk = (text: string, finish: string | null) => ({
      object: "text_completion",
      choices: [{ index: 0, text, finish_reason: finish }],
    });
    const server = await fake((_request, response) =>
      sendSse(response, [chunk("a", null), chunk("b", null), chunk("", "stop"), "[DONE]"]),
    );
    const model = createOpenAiLanguageModel({ url: server.url, model: "m" });
    expect(await collect(model.stream({ prompt: "x" }))).toEqual([
      { type: "token", text: "a" },
      { type: "token", text: "b" },
      { type: "done", finishReason: "stop", usage: { promptTokens: 0, completionTokens: 2 } },
    ]);
  });

  it("fails a stream that ends without data: [DONE]", async () => {
    const server = await fake((_request, response) => sendSse(response, openAiChatChunks(["a"]).slice(0, 2)));
    const model = createOpenAiLanguageModel({ url: server.url, model: "m", retries: 0 });
    await expect(collect(model.stream({ prompt: "x" }))).rejects.toMatchObject({ code: "upstream_error" });
  });

  it("maps OpenAI-style error bodies: 400 → validation_error with the message, 401 → upstream_error", async () => {
    const server = await fake((request, response) => {
      if ((request.body as { model?: string }).model === "bad")
        sendJson(response, 401, { error: { message: "Invalid API key sk-..." } });
      else sendJson(response, 400, { error: { message: "max_tokens is too large", type: "invalid_request_error" } });
    });
    const tooLarge = await createOpenAiLanguageModel({ url: server.url, model: "m" })
      .generate({ prompt: "x" })
      .catch((error: AppError) => error);
    expect(tooLarge).toMatchObject({ code: "validation_error" });
    expect((tooLarge as AppError).message).toContain("max_tokens is too large");
    const unauthorized = await createOpenAiLanguageModel({ url: server.url, model: "bad" })
      .generate({ prompt: "x" })
      .catch((error: AppError) => error);
    expect(unauthorized).toMatchObject({ code: "upstream_error", retryable: false });
    expect((unauthorized as AppError).message).not.toContain("sk-");
  });

  it("health is GET /v1/models", async () => {
    const server = await fake((_request, response) => sendJson(response, 200, models));
    const model = createOpenAiLanguageModel({ url: server.url, model: "m" });
    expect(await model.health()).toBe(true);
    expect(server.requests[0]).toMatchObject({ method: "GET", path: "/v1/models" });
  });
});

describe("createLanguageModelFromUrl", () => {
  it("picks TGI for plain URLs, OpenAI for openai: or api: 'openai', and a balancer for several URLs", async () => {
    const server = await fake((request, response) => {
      if (request.path === "/health") sendJson(response, 200, {});
      else if (request.path === "/v1/models") sendJson(response, 200, models);
      else sendJson(response, 404, {});
    });
    expect(await createLanguageModelFromUrl(server.url).health()).toBe(true);
    expect(await createLanguageModelFromUrl(`openai:${server.url}`, { model: "m" }).health()).toBe(true);
    expect(await createLanguageModelFromUrl(server.url, { api: "openai", model: "m" }).health()).toBe(true);
    expect(await createLanguageModelFromUrl(`tgi:${server.url}`).health()).toBe(true);
    expect(server.requests.map((request) => request.path)).toEqual(["/health", "/v1/models", "/v1/models", "/health"]);

    const balanced = createLanguageModelFromUrl(`${server.url}, openai:${server.url}`, {
      model: "m",
      loadBalancer: { healthIntervalMs: 0 },
    });
    expect(balanced.id).toBe(`${server.url},openai:${server.url}`);
    expect(await balanced.health()).toBe(true);
    await balanced[Symbol.asyncDispose]();
  });

  it("builds a SageMaker client for sagemaker:<endpoint> and rejects unknown schemes", () => {
    expect(createLanguageModelFromUrl("sagemaker:twin", { region: "eu-central-1" }).id).toBe("sagemaker:twin");
    expect(() => createLanguageModelFromUrl("ftp://x")).toThrow(/Unsupported LLM URL/);
    expect(() => createLanguageModelFromUrl("sagemaker:")).toThrow(/endpoint name/);
    expect(() => createLanguageModelFromUrl(" , ")).toThrow(/No LLM URL/);
  });
});
