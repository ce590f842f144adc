import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testEngineBackend } from "../../src/testing/engine-backend.js";
import { sseData, startTestService, type TestService } from "./helpers.js";

let service: TestService;
beforeAll(async () => {
  service = await startTestService();
});
afterAll(async () => {
  await service?.close();
});

const post = (url: string, payload: object) => service.app.inject({ method: "POST", url, payload });

describe("OpenAI API", () => {
  it("POST /v1/completions answers a text_completion with usage", async () => {
    const response = await post("/v1/completions", {
      prompt: "Hello",
      max_tokens: 6,
      temperature: 0,
      ignore_eos: true,
    });
    expect(response.statusCode).toBe(200);
    const body = response.json();
    expect(body).toMatchObject({
      object: "text_completion",
      model: "tiny-chat",
      choices: [{ index: 0, finish_reason: "length", logprobs: null }],
      usage: { completion_tokens: 6 },
    });
    expect(body.usage.total_tokens).toBe(body.usage.prompt_tokens + 6);
    expect(body.id).toMatch(/^cmpl-/);
  });

  it("frequency_penalty and presence_penalty (−2…2) steer the completion; outside the range is 422", async () => {
    const request = { prompt: "Again", max_tokens: 96, temperature: 0, ignore_eos: true };
    const text = async (extra: object) => {
      const response = await post("/v1/completions", { ...request, ...extra });
      expect(response.statusCode).toBe(200);
      return response.json().choices[0].text as string;
    };
    const plain = await text({});
    expect(await text({ frequency_penalty: 2 })).not.toBe(plain);
    expect(await text({ presence_penalty: -2 })).not.toBe(plain);
    expect(await text({ frequency_penalty: 0, presence_penalty: 0 })).toBe(plain);
    const chat = await post("/v1/chat/completions", {
      messages: [{ role: "user", content: "Hi" }],
      max_tokens: 4,
      frequency_penalty: 2.5,
    });
    expect(chat.statusCode).toBe(422);
    expect(chat.json().error).toMatchObject({ param: "frequency_penalty" });
    const tgi = await post("/generate", { inputs: "Again", parameters: { max_new_tokens: 4, frequency_penalty: 1 } });
    expect(tgi.statusCode).toBe(200);
    // node-llama-cpp applies every penalty to one token list: with repetition_penalty it refuses.
    const both = await post("/v1/completions", { ...request, repetition_penalty: 1.2, frequency_penalty: 1 });
    if (testEngineBackend().backend === "node-llama-cpp") {
      expect(both.statusCode).toBe(422);
      expect(both.json().error.message).toMatch(/--engine native/);
    } else {
      expect(both.statusCode).toBe(200);
    }
  });

  it("greedy completions are deterministic, honour stop and echo", async () => {
    const request = { prompt: "Twin", max_tokens: 30, temperature: 0, ignore_eos: true };
    const reference = (await post("/v1/completions", request)).json().choices[0].text as string;
    expect((await post("/v1/completions", request)).json().choices[0].text).toBe(reference);
    const stop = reference.slice(10, 13);
    const stopped = (await post("/v1/completions", { ...request, stop })).json();
    expect(stopped.choices[0].text).toBe(reference.slice(0, reference.indexOf(stop)));
    expect(stopped.choices[0].finish_reason).toBe("stop");
    const echoed = (await post("/v1/completions", { ...request, echo: true })).json();
    expect(echoed.choices[0].text).toBe(`Twin${reference}`);
  });

  it("logit_bias in OpenAI's object form forces a token; llama-server's pair list is accepted", async () => {
    const forced = await post("/v1/completions", {
      prompt: "x",
      max_tokens: 3,
      temperature: 0,
      logit_bias: { "400": 100 },
    });
    const forcedText = forced.json().choices[0].text as string;
    const pairs = await post("/v1/completions", {
      prompt: "x",
      max_tokens: 3,
      temperature: 0,
      logit_bias: [[400, 100]],
    });
    expect(pairs.json().choices[0].text).toBe(forcedText);
    expect(forcedText.length).toBeGreaterThan(0);
  });

  it("seed reproduces a sampled completion", async () => {
    const request = { prompt: "Seed", max_tokens: 20, temperature: 1, seed: 1234, ignore_eos: true };
    const a = (await post("/v1/completions", request)).json().choices[0].text;
    const b = (await post("/v1/completions", request)).json().choices[0].text;
    expect(b).toBe(a);
  });

  it("POST /v1/completions with stream sends data: chunks, a finish chunk, usage and [DONE]", async () => {
    const response = await post("/v1/completions", {
      prompt: "Stream",
      max_tokens: 5,
      temperature: 0,
      ignore_eos: true,
      stream: true,
      stream_options: { include_usage: true },
    });
    expect(response.headers["content-type"]).toBe("text/event-stream");
    expect(response.body.startsWith("data: {")).toBe(true);
    const data = sseData(response.body);
    expect(data.at(-1)).toBe("[DONE]");
    const chunks = data.slice(0, -1).map((item) => JSON.parse(item));
    const usage = chunks.at(-1);
    expect(usage.choices).toEqual([]);
    expect(usage.usage.completion_tokens).toBe(5);
    const finish = chunks.at(-2);
    expect(finish.choices[0].finish_reason).toBe("length");
    const text = chunks
      .slice(0, -1)
      .map((chunk) => chunk.choices[0].text)
      .join("");
    const whole = (
      await post("/v1/completions", { prompt: "Stream", max_tokens: 5, temperature: 0, ignore_eos: true })
    ).json();
    expect(text).toBe(whole.choices[0].text);
  });

  it("POST /v1/chat/completions applies the chat template and answers chat.completion", async () => {
    const response = await post("/v1/chat/completions", {
      model: "tiny-chat",
      messages: [
        { role: "system", content: "You are a twin." },
        { role: "user", content: "Hi" },
      ],
      max_tokens: 5,
      temperature: 0,
    });
    expect(response.statusCode).toBe(200);
    const body = response.json();
    expect(body).toMatchObject({ object: "chat.completion", choices: [{ index: 0, message: { role: "assistant" } }] });
    expect(body.id).toMatch(/^chatcmpl-/);
    // The ChatML template wraps both messages: far more prompt tokens than the two texts alone.
    expect(body.usage.prompt_tokens).toBeGreaterThan(10);
  });

  it("POST /v1/chat/completions with stream: role chunk, content chunks, finish chunk, [DONE]", async () => {
    const response = await post("/v1/chat/completions", {
      messages: [{ role: "user", content: "Hi" }],
      max_tokens: 4,
      temperature: 0,
      ignore_eos: true,
      stream: true,
    });
    const data = sseData(response.body);
    expect(data.at(-1)).toBe("[DONE]");
    const chunks = data.slice(0, -1).map((item) => JSON.parse(item));
    expect(chunks[0].object).toBe("chat.completion.chunk");
    expect(chunks[0].choices[0].delta).toEqual({ role: "assistant", content: "" });
    expect(chunks.at(-1).choices[0]).toMatchObject({ delta: {}, finish_reason: "length" });
  });

  it("response_format json_schema constrains chat output to JSON", async () => {
    const response = await post("/v1/chat/completions", {
      messages: [{ role: "user", content: "JSON please" }],
      max_tokens: 40,
      temperature: 0,
      response_format: {
        type: "json_schema",
        json_schema: {
          name: "x",
          schema: { type: "object", properties: { ok: { type: "boolean" } }, required: ["ok"] },
        },
      },
    });
    const parsed = JSON.parse(response.json().choices[0].message.content);
    expect(typeof parsed.ok).toBe("boolean");
  });

  it("response_format json_schema integers are finite integers at any seed; unenforceable keywords get a 422", async () => {
    const schema = {
      type: "object",
      properties: { a: { type: "integer" } },
      required: ["a"],
      additionalProperties: false,
    };
    let finished = 0;
    for (const seed of [1, 2, 3, 4, 5, 6]) {
      const response = await post("/v1/chat/completions", {
        messages: [{ role: "user", content: `number ${seed}` }],
        max_tokens: 40,
        temperature: 1.5,
        seed,
        response_format: { type: "json_schema", json_schema: { name: "n", schema } },
      });
      const choice = response.json().choices[0];
      if (choice.finish_reason === "length") continue;
      const parsed = JSON.parse(choice.message.content);
      expect(Object.keys(parsed)).toEqual(["a"]);
      expect(Number.isInteger(parsed.a) && Number.isFinite(parsed.a)).toBe(true);
      finished++;
    }
    expect(finished).toBeGreaterThan(0);
    const refused = await post("/v1/chat/completions", {
      messages: [{ role: "user", content: "date" }],
      max_tokens: 4,
      response_format: {
        type: "json_schema",
        json_schema: { name: "d", schema: { type: "string", format: "iri" } },
      },
    });
    expect(refused.statusCode).toBe(422);
    expect(JSON.stringify(refused.json())).toContain("`format`");
  });

  it("GET /v1/models lists the served model", async () => {
    const response = await service.app.inject({ method: "GET", url: "/v1/models" });
    expect(response.json()).toMatchObject({ object: "list", data: [{ id: "tiny-chat", object: "model" }] });
  });

  it("GET /v1/models/{model} answers one entry (OpenAI's models.retrieve), 404 model_not_found for another", async () => {
    const one = await service.app.inject({ method: "GET", url: "/v1/models/tiny-chat" });
    expect(one.statusCode).toBe(200);
    expect(one.json()).toMatchObject({ id: "tiny-chat", object: "model", owned_by: "llm-twin" });
    const other = await service.app.inject({ method: "GET", url: "/v1/models/gpt-4" });
    expect(other.statusCode).toBe(404);
    expect(other.json().error).toMatchObject({
      code: "model_not_found",
      type: "invalid_request_error",
      message: expect.stringContaining("GET /v1/models"),
    });
  });
});
