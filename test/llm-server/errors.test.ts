import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildLlmServerApp } from "../../src/llm-server/app.js";
import { createLlmServerMetrics } from "../../src/llm-server/metrics.js";
import { createModelHolder } from "../../src/llm-server/model-holder.js";
import { startTestService, type TestService } from "./helpers.js";

let service: TestService;
beforeAll(async () => {
  service = await startTestService(
    { maxTotalTokens: 128, maxInputTokens: 64, maxNewTokens: 100 },
    { bodyLimitBytes: 4096 },
  );
});
afterAll(async () => {
  await service?.close();
});

const send = (url: string, payload: string | object, contentType = "application/json") =>
  service.app.inject({ method: "POST", url, payload, headers: { "content-type": contentType } });

describe("bad requests", () => {
  it("bad JSON is 400 with a clear message in TGI's shape, also without a JSON content type (curl -d)", async () => {
    for (const contentType of ["application/json", "application/x-www-form-urlencoded"]) {
      const response = await send("/generate", '{"inputs": "x"', contentType);
      expect(response.statusCode).toBe(400);
      expect(response.json()).toMatchObject({ error_type: "validation" });
      expect(response.json().error).toMatch(/not valid JSON/);
    }
  });

  it("curl -d's form content type carrying JSON is served", async () => {
    const response = await send(
      "/generate",
      '{"inputs":"Hello","parameters":{"max_new_tokens":2}}',
      "application/x-www-form-urlencoded",
    );
    expect(response.statusCode).toBe(200);
  });

  it("wrong types are 422 naming the field", async () => {
    const response = await send("/generate", { inputs: "x", parameters: { max_new_tokens: "ten" } });
    expect(response.statusCode).toBe(422);
    expect(response.json()).toEqual({
      error: expect.stringContaining("parameters.max_new_tokens"),
      error_type: "validation",
    });
    const openAi = await send("/v1/completions", { prompt: 42 });
    expect(openAi.statusCode).toBe(422);
    expect(openAi.json().error).toMatchObject({
      type: "invalid_request_error",
      message: expect.stringContaining("prompt"),
    });
  });

  it("a field with alternatives (stop, response_format, tool_choice, prompt...) says which one failed and why", async () => {
    const messages = [{ role: "user", content: "x" }];
    const cases: Array<[string, object, RegExp]> = [
      ["/generate", { inputs: "x", parameters: { stop: Array(17).fill("a") } }, /`parameters.stop`: .*<=16 items/],
      [
        "/generate",
        { inputs: "x", parameters: { stop: 5 } },
        /`parameters.stop`: expected string or array, received number/,
      ],
      ["/v1/completions", { prompt: "x", stop: 5 }, /`stop`: expected string or array, received number/],
      ["/v1/completions", { prompt: ["a", "b"] }, /`prompt`: a list holds one prompt here \(batches and token ids/],
      ["/v1/completions", { prompt: [1, 2, 3] }, /`prompt`: a list holds one prompt here \(batches and token ids/],
      [
        "/v1/chat/completions",
        { messages, response_format: { type: "yaml" } },
        /`response_format.type`: expected one of "text", "json_object", "json_schema"/,
      ],
      [
        "/v1/chat/completions",
        { messages, response_format: { type: "json_schema", json_schema: { name: "x" } } },
        /`response_format.json_schema.schema`: .*expected record, received undefined/,
      ],
      [
        "/v1/chat/completions",
        { messages, tools: [{ type: "function", function: { name: "a" } }], tool_choice: "always" },
        /`tool_choice`: expected one of "none", "auto", "required" or object/,
      ],
      [
        "/v1/chat/completions",
        { messages: [{ role: "user", content: [{ type: "image_url", image_url: { url: "x" } }] }] },
        /`messages.0.content.0.type` 'image_url' is not supported: expected "text"/,
      ],
    ];
    for (const [url, body, message] of cases) {
      const response = await send(url, body);
      expect(response.statusCode, JSON.stringify(body)).toBe(422);
      const error = response.json().error;
      expect(typeof error === "string" ? error : error.message, JSON.stringify(body)).toMatch(message);
    }
  });

  it("OpenAI's other parameters are accepted at their neutral values and refused as unsupported otherwise", async () => {
    const messages = [{ role: "user", content: "x" }];
    const neutral: Array<[string, object]> = [
      ["/v1/completions", { prompt: "x", max_tokens: 1, suffix: null, best_of: 1 }],
      [
        "/v1/chat/completions",
        {
          messages,
          max_tokens: 1,
          store: false,
          metadata: { team: "a" },
          service_tier: "auto",
          modalities: ["text"],
          reasoning_effort: null,
          functions: null,
          function_call: null,
          audio: null,
          prediction: null,
          web_search_options: null,
        },
      ],
    ];
    for (const [url, body] of neutral) expect((await send(url, body)).statusCode, JSON.stringify(body)).toBe(200);
    const refused: Array<[string, object, RegExp]> = [
      ["/v1/completions", { prompt: "x", suffix: "end" }, /`suffix` is not supported/],
      ["/v1/completions", { prompt: "x", best_of: 2 }, /`best_of` is not supported.*use n/],
      ["/v1/chat/completions", { messages, functions: [{ name: "a" }] }, /`functions` is not supported.*tools/],
      ["/v1/chat/completions", { messages, function_call: "auto" }, /`function_call` is not supported.*tool_choice/],
      ["/v1/chat/completions", { messages, modalities: ["text", "audio"] }, /`modalities` is not supported/],
      ["/v1/chat/completions", { messages, audio: { voice: "x" } }, /`audio` is not supported/],
    ];
    for (const [url, body, message] of refused) {
      const response = await send(url, body);
      expect(response.statusCode, JSON.stringify(body)).toBe(422);
      expect(response.json().error.message, JSON.stringify(body)).toMatch(message);
    }
  });

  it("unknown parameters are 422 naming them, on both APIs", async () => {
    const tgi = await send("/generate", { inputs: "x", parameters: { max_tokens: 3 } });
    expect(tgi.statusCode).toBe(422);
    expect(tgi.json().error).toContain("`parameters.max_tokens`");
    const openAi = await send("/v1/chat/completions", {
      messages: [{ role: "user", content: "x" }],
      max_new_tokens: 3,
    });
    expect(openAi.statusCode).toBe(422);
    expect(openAi.json().error.message).toContain("`max_new_tokens`");
  });

  it("decoder_input_details on a stream is 422, as TGI answers it, not silently ignored", async () => {
    for (const [url, body] of [
      ["/generate_stream", { inputs: "x", parameters: { decoder_input_details: true, details: true } }],
      ["/", { inputs: "x", stream: true, parameters: { decoder_input_details: true } }],
    ] as const) {
      const response = await send(url, body);
      expect(response.statusCode, url).toBe(422);
      expect(response.json(), url).toEqual({
        error: "Input validation error: `decoder_input_details` == true is not supported when streaming tokens",
        error_type: "validation",
      });
    }
  });

  it("a JSON schema nested deeper than 128 levels is 422 naming the field (20,000 levels were a 500: stack overflow)", async () => {
    // 140 levels fit this service's 4 KiB body limit.
    let schema: Record<string, unknown> = { type: "integer" };
    for (let level = 0; level < 140; level += 1) schema = { type: "array", items: schema };
    const messages = [{ role: "user", content: "x" }];
    const tools = [{ type: "function", function: { name: "a", parameters: schema } }];
    for (const [url, body, field] of [
      ["/generate", { inputs: "x", parameters: { grammar: { type: "json", value: schema } } }, "grammar.value"],
      [
        "/v1/chat/completions",
        { messages, response_format: { type: "json_schema", json_schema: { name: "x", schema } } },
        "response_format.json_schema.schema",
      ],
      ["/v1/chat/completions", { messages, tools, tool_choice: "required" }, "tools"],
    ] as const) {
      const response = await service.app.inject({
        method: "POST",
        url,
        payload: JSON.stringify(body),
        headers: { "content-type": "application/json" },
      });
      expect(response.statusCode, field).toBe(422);
      const error = response.json().error;
      expect(typeof error === "string" ? error : error.message, field).toContain(
        `\`${field}\` is nested deeper than 128 levels`,
      );
    }
  });

  it("empty prompts and empty bodies are 422", async () => {
    expect((await send("/generate", { inputs: "" })).statusCode).toBe(422);
    expect((await send("/v1/completions", { prompt: "" })).statusCode).toBe(422);
    expect((await send("/v1/chat/completions", { messages: [] })).statusCode).toBe(422);
    expect((await send("/generate", "")).statusCode).toBe(422);
  });

  it("a body over the limit is 413", async () => {
    const response = await send("/generate", { inputs: "x".repeat(5000) });
    expect(response.statusCode).toBe(413);
    expect(response.json()).toMatchObject({ error_type: "validation" });
    expect(response.json().error).toMatch(/over \d+ bytes \(serve-llm --body-limit \/ LLM_TWIN_BODY_LIMIT\)/);
    const openAi = await send("/v1/chat/completions", { messages: [{ role: "user", content: "x".repeat(5000) }] });
    expect(openAi.statusCode).toBe(413);
    expect(openAi.json().error).toMatchObject({
      code: "payload_too_large",
      message: expect.stringContaining("--body-limit"),
    });
  });

  it("token limits are 422 with the numbers, TGI-style", async () => {
    const engine = service.holder.require();
    const textOfTokens = (minimum: number): string => {
      let text = "Twin";
      while (engine.countTokens({ prompt: text }) < minimum) text += " word";
      return text;
    };
    const tooLong = await send("/generate", { inputs: textOfTokens(65) });
    expect(tooLong.statusCode).toBe(422);
    expect(tooLong.json().error).toMatch(/must have less than 64 tokens\. Given: \d+/);
    const tooMany = await send("/generate", { inputs: "hi", parameters: { max_new_tokens: 101 } });
    expect(tooMany.json().error).toMatch(/`max_new_tokens` must be <= 100\. Given: 101/);
    const total = await service.app.inject({
      method: "POST",
      url: "/generate",
      payload: { inputs: textOfTokens(40), parameters: { max_new_tokens: 100 } },
    });
    expect(total.statusCode).toBe(422);
    expect(total.json().error).toMatch(/must be <= 128\. Given: \d+ `inputs` tokens and 100 `max_new_tokens`/);
  });

  it("token limits on the OpenAI routes name OpenAI's fields (max_tokens, prompt), not TGI's", async () => {
    const tooMany = await send("/v1/completions", { prompt: "hi", max_tokens: 101 });
    expect(tooMany.statusCode).toBe(422);
    expect(tooMany.json().error.message).toMatch(/`max_tokens` must be <= 100\. Given: 101/);
    const chat = await send("/v1/chat/completions", { messages: [{ role: "user", content: "hi" }], max_tokens: 101 });
    expect(chat.json().error.message).toMatch(/`max_tokens` must be <= 100\. Given: 101/);
    const long = await send("/v1/completions", { prompt: "Twin word".repeat(60) });
    expect(long.statusCode).toBe(422);
    expect(long.json().error.message).toMatch(/`prompt` must have less than 64 tokens\. Given: \d+/);
    expect(long.json().error.message).not.toContain("inputs");
  });

  it("unsupported values are refused instead of ignored", async () => {
    // best_of needs sampling (TGI's rule); n beyond --max-n or the parallel sequences is refused.
    const greedyBestOf = await send("/generate", { inputs: "x", parameters: { best_of: 2 } });
    expect(greedyBestOf.statusCode).toBe(422);
    expect(greedyBestOf.json().error).toMatch(/you must use sampling when `best_of` is > 1/);
    const tooMany = await send("/v1/completions", { prompt: "x", n: 50 });
    expect(tooMany.statusCode).toBe(422);
    expect(tooMany.json().error).toMatchObject({ code: "too_many_choices" });
    expect(
      (await send("/generate", { inputs: "x", parameters: { grammar: { type: "regex", value: "(?=a)b" } } }))
        .statusCode,
    ).toBe(422);
  });

  it("unknown routes are 404 without a stack trace", async () => {
    const response = await service.app.inject({ method: "GET", url: "/nope" });
    expect(response.statusCode).toBe(404);
    expect(response.body).not.toMatch(/at \w+ \(/);
  });
});

describe("while the model loads", () => {
  it("/health, /ping and generation answer 503; /metrics works", async () => {
    const holder = createModelHolder();
    const app = buildLlmServerApp({ holder, metrics: createLlmServerMetrics(holder), bodyLimitBytes: 1024 });
    holder.setProgress(0.5);
    const health = await app.inject({ method: "GET", url: "/health" });
    expect(health.statusCode).toBe(503);
    expect(health.json()).toEqual({ error: "The model is loading (50%)", error_type: "unhealthy" });
    expect(health.headers["retry-after"]).toBe("1");
    expect((await app.inject({ method: "GET", url: "/ping" })).statusCode).toBe(503);
    expect((await app.inject({ method: "POST", url: "/generate", payload: { inputs: "x" } })).statusCode).toBe(503);
    const metrics = await app.inject({ method: "GET", url: "/metrics" });
    expect(metrics.body).toContain("llm_twin_model_load_progress 0.5");
    await app.close();
  });
});

describe("per-request timeout", () => {
  it("a generation that outlives --request-timeout is 504 and frees its sequence", async () => {
    const slow = await startTestService({ requestTimeoutMs: 150 });
    try {
      const response = await slow.app.inject({
        method: "POST",
        url: "/generate",
        payload: { inputs: "never ending", parameters: { max_new_tokens: 2000, ignore_eos: true } },
      });
      expect(response.statusCode).toBe(504);
      expect(response.json()).toEqual({ error: "The request exceeded the 150 ms timeout", error_type: "timeout" });
      expect(slow.holder.require().stats().sequencesInUse).toBe(0);
    } finally {
      await slow.close();
    }
  });
});
