import { getEventListeners } from "node:events";
import { describe, expect, it } from "vitest";
import { AppError } from "../../src/errors/index.js";
import { createTgiLanguageModel } from "../../src/llm/clients/index.js";
import { delay, openAiChatChunks, sendJson, sendSse, startFakeServer, tgiTokenEvents } from "./fake-server.js";
import { collect, useFakeServers } from "./test-support.js";

const fake = useFakeServers();

async function caught(promise: Promise<unknown>): Promise<AppError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof AppError) return error;
    throw error;
  }
  throw new Error("expected a rejection");
}

const generated = {
  generated_text: " world",
  details: { finish_reason: "eos_token", generated_tokens: 2, seed: null, prefill: [], tokens: [] },
};

describe("TGI client: request mapping", () => {
  it("maps every parameter to TGI names and reads text, finish reason and token counts", async () => {
    const server = await fake((_request, response) => sendJson(response, 200, generated, { "x-prompt-tokens": "4" }));
    const model = createTgiLanguageModel({ url: server.url, retries: 0 });
    const result = await model.generate({
      prompt: "Hello",
      maxNewTokens: 20,
      temperature: 0.7,
      topK: 40,
      topP: 0.9,
      repetitionPenalty: 1.1,
      stop: ["\n\n"],
      seed: 42,
      jsonSchema: { type: "object" },
    });
    expect(result).toEqual({ text: " world", finishReason: "eos", usage: { promptTokens: 4, completionTokens: 2 } });
    expect(server.requests[0]).toMatchObject({ method: "POST", path: "/generate" });
    expect(server.requests[0]?.body).toEqual({
      inputs: "Hello",
      parameters: {
        max_new_tokens: 20,
        temperature: 0.7,
        do_sample: true,
        top_k: 40,
        top_p: 0.9,
        repetition_penalty: 1.1,
        stop: ["\n\n"],
        seed: 42,
        grammar: { type: "json", value: { type: "object" } },
        return_full_text: false,
        details: true,
      },
    });
  });

  it("sends greedy decoding for temperature 0 and leaves out top_p = 1", async () => {
    const server = await fake((_request, response) => sendJson(response, 200, generated));
    const model = createTgiLanguageModel({ url: server.url });
    await model.generate({ prompt: "x", temperature: 0, topP: 1 });
    // TGI samples whenever top_k or top_p < 1 is set, do_sample false or not: greedy sends neither.
    await model.generate({ prompt: "x", temperature: 0, topP: 0.9, topK: 40 });
    for (const request of server.requests) {
      expect(request.body).toEqual({
        inputs: "x",
        parameters: { do_sample: false, return_full_text: false, details: true },
      });
    }
  });

  it("sends messages to TGI's Messages API, JSON schema as response_format", async () => {
    const server = await fake((_request, response) =>
      sendJson(response, 200, {
        id: "1",
        object: "chat.completion",
        choices: [{ index: 0, message: { role: "assistant", content: "Hi!" }, finish_reason: "length" }],
        usage: { prompt_tokens: 9, completion_tokens: 3, total_tokens: 12 },
      }),
    );
    const model = createTgiLanguageModel({ url: `${server.url}/` });
    const result = await model.generate({
      messages: [{ role: "user", content: "Hi" }],
      maxNewTokens: 3,
      jsonSchema: { type: "string" },
    });
    expect(result).toEqual({ text: "Hi!", finishReason: "length", usage: { promptTokens: 9, completionTokens: 3 } });
    expect(server.requests[0]?.path).toBe("/v1/chat/completions");
    expect(server.requests[0]?.body).toEqual({
      model: "tgi",
      messages: [{ role: "user", content: "Hi" }],
      max_tokens: 3,
      response_format: { type: "json_schema", json_schema: { name: "output", schema: { type: "string" } } },
      stream: false,
    });
  });

  it("sends logitBias as the logit_bias extension that serve-llm honours (a ban becomes -100)", async () => {
    const server = await fake((_request, response) => sendJson(response, 200, generated));
    const model = createTgiLanguageModel({ url: server.url });
    await model.generate({ prompt: "x", logitBias: { 5: -Infinity, 6: 1.5 } });
    expect(server.requests[0]?.body).toMatchObject({ parameters: { logit_bias: { 5: -100, 6: 1.5 } } });
  });
});

describe("TGI client: streaming", () => {
  it("parses /generate_stream token events split across arbitrary chunks, skipping special tokens", async () => {
    const events = tgiTokenEvents(["Hel", "lo", " wörld"], "length", 11);
    const eos = {
      index: 4,
      token: { id: 2, text: "</s>", logprob: 0, special: true },
      generated_text: null,
      details: null,
    };
    const server = await fake((_request, response) =>
      sendSse(response, [events[0], events[1], eos, events[2]], { splitEvery: 7, lineEnding: "\r\n" }),
    );
    const model = createTgiLanguageModel({ url: server.url });
    const parts = await collect(model.stream({ prompt: "Say hello", maxNewTokens: 3 }));
    expect(parts).toEqual([
      { type: "token", text: "Hel", tokenId: 300 },
      { type: "token", text: "lo", tokenId: 301 },
      { type: "token", text: " wörld", tokenId: 302 },
      { type: "done", finishReason: "length", usage: { promptTokens: 11, completionTokens: 3 } },
    ]);
    expect(server.requests[0]?.path).toBe("/generate_stream");
    expect(server.requests[0]?.body).toMatchObject({
      inputs: "Say hello",
      stream: true,
      parameters: { max_new_tokens: 3 },
    });
  });

  it("streams chat through the Messages API with usage from stream_options", async () => {
    const server = await fake((_request, response) => sendSse(response, openAiChatChunks(["A", "B"], "stop", 6)));
    const model = createTgiLanguageModel({ url: server.url });
    const parts = await collect(model.stream({ messages: [{ role: "user", content: "x" }] }));
    expect(parts).toEqual([
      { type: "token", text: "A" },
      { type: "token", text: "B" },
      { type: "done", finishReason: "stop", usage: { promptTokens: 6, completionTokens: 2 } },
    ]);
    expect(server.requests[0]?.body).toMatchObject({ stream: true, stream_options: { include_usage: true } });
  });

  it("turns an error event into a typed error", async () => {
    const server = await fake((_request, response) =>
      sendSse(response, [{ error: "Request failed during generation: CUDA OOM", error_type: "generation" }]),
    );
    const model = createTgiLanguageModel({ url: server.url, retries: 0 });
    const error = await caught(collect(model.stream({ prompt: "x" })));
    expect(error.code).toBe("upstream_error");
    expect(error.message).not.toContain("CUDA");
  });

  it("fails clearly when the stream ends without its final event", async () => {
    const server = await fake((_request, response) => sendSse(response, [tgiTokenEvents(["a", "b"])[0]]));
    const model = createTgiLanguageModel({ url: server.url, retries: 0 });
    const error = await caught(collect(model.stream({ prompt: "x" })));
    expect(error.code).toBe("upstream_error");
    expect(error.message).toMatch(/ended before its final event/);
  });

  it("cancelling the caller's signal mid-stream aborts the HTTP request (the server sees the disconnect)", async () => {
    const server = await fake((_request, response) =>
      sendSse(response, tgiTokenEvents(Array.from({ length: 200 }, (_, index) => `t${index}`)), { eventDelayMs: 10 }),
    );
    const model = createTgiLanguageModel({ url: server.url });
    const controller = new AbortController();
    const received: string[] = [];
    const error = await caught(
      (async () => {
        for await (const part of model.stream({ prompt: "x", signal: controller.signal })) {
          if (part.type === "token") received.push(part.text);
          if (received.length === 3) controller.abort();
        }
      })(),
    );
    expect(error.code).toBe("aborted");
    expect(received).toHaveLength(3);
    for (let waited = 0; server.clientDisconnects() === 0 && waited < 2_000; waited += 20) await delay(20);
    expect(server.clientDisconnects()).toBe(1);
  });

  it("breaking out of the loop also releases the request", async () => {
    const server = await fake((_request, response) =>
      sendSse(response, tgiTokenEvents(Array.from({ length: 200 }, (_, index) => `t${index}`)), { eventDelayMs: 10 }),
    );
    const model = createTgiLanguageModel({ url: server.url });
    for await (const part of model.stream({ prompt: "x" })) {
      if (part.type === "token") break;
    }
    for (let waited = 0; server.clientDisconnects() === 0 && waited < 2_000; waited += 20) await delay(20);
    expect(server.clientDisconnects()).toBe(1);
  });
});

describe("TGI client: errors, retries and timeouts", () => {
  it("maps 422 to a non-retried validation_error carrying TGI's short message", async () => {
    const server = await fake((_request, response) =>
      sendJson(response, 422, {
        error:
          "Input validation error: `inputs` tokens + `max_new_tokens` must be <= 2048. Given: 2000 `inputs` tokens and 100 `max_new_tokens`",
        error_type: "validation",
      }),
    );
    const model = createTgiLanguageModel({ url: server.url, retries: 3, retryBaseDelayMs: 1 });
    const error = await caught(model.generate({ prompt: "x" }));
    expect(error.code).toBe("validation_error");
    expect(error.retryable).toBe(false);
    expect(error.message).toContain("must be <= 2048");
    expect(server.requests).toHaveLength(1);
  });

  it("retries 429 with backoff and succeeds; gives up as overloaded after the retries", async () => {
    let calls = 0;
    const server = await fake((_request, response) => {
      calls++;
      if (calls <= 2)
        sendJson(response, 429, { error: "Model is overloaded", error_type: "overloaded" }, { "retry-after": "0" });
      else sendJson(response, 200, generated);
    });
    const model = createTgiLanguageModel({ url: server.url, retries: 2, retryBaseDelayMs: 1 });
    expect((await model.generate({ prompt: "x" })).text).toBe(" world");
    expect(server.requests).toHaveLength(3);

    calls = -10;
    const error = await caught(model.generate({ prompt: "x" }));
    expect(error.code).toBe("overloaded");
    expect(error.retryable).toBe(true);
  });

  it("maps 500 to upstream_error (no retry, body not leaked) and 503 to upstream_unavailable (retried)", async () => {
    const server = await fake((request, response) => {
      if (request.path === "/generate")
        sendJson(response, 500, { error: "secret stack trace", error_type: "incomplete_generation" });
      else sendJson(response, 503, { error: "unavailable" });
    });
    const model = createTgiLanguageModel({ url: server.url, retries: 1, retryBaseDelayMs: 1 });
    const internal = await caught(model.generate({ prompt: "x" }));
    expect(internal).toMatchObject({ code: "upstream_error", retryable: false });
    expect(internal.message).not.toContain("secret");
    const unavailable = await caught(model.generate({ messages: [{ role: "user", content: "x" }] }));
    expect(unavailable).toMatchObject({ code: "upstream_unavailable", retryable: true });
    expect(server.requests.filter((request) => request.path === "/generate")).toHaveLength(1);
    expect(server.requests.filter((request) => request.path === "/v1/chat/completions")).toHaveLength(2);
  });

  it("maps a refused connection to upstream_unavailable after retrying", async () => {
    const server = await startFakeServer((_request, response) => sendJson(response, 200, generated));
    const url = server.url;
    await server.close();
    const model = createTgiLanguageModel({ url, retries: 2, retryBaseDelayMs: 1 });
    const error = await caught(model.generate({ prompt: "x" }));
    expect(error).toMatchObject({ code: "upstream_unavailable", retryable: true });
    expect(error.message).toContain("ECONNREFUSED");
    expect(await model.health()).toBe(false);
  });

  it("rejects a response that does not match TGI's schema without echoing it", async () => {
    const server = await fake((_request, response) => sendJson(response, 200, { text: "leaky internal" }));
    const model = createTgiLanguageModel({ url: server.url });
    const error = await caught(model.generate({ prompt: "x" }));
    expect(error.code).toBe("upstream_error");
    expect(error.message).not.toContain("leaky");
  });

  it("times out a hanging server with code timeout and does not retry it", async () => {
    const server = await fake(() => {
      // never answers
    });
    const model = createTgiLanguageModel({ url: server.url, timeoutMs: 200, retries: 3 });
    const error = await caught(model.generate({ prompt: "x" }));
    expect(error.code).toBe("timeout");
    expect(server.requests).toHaveLength(1);
  });

  it("does not restart a stream that already produced tokens", async () => {
    const server = await fake(async (_request, response) => {
      await sendSse(response, tgiTokenEvents(["a", "b", "c"]).slice(0, 2), { end: false });
      await delay(20);
      response.destroy();
    });
    const model = createTgiLanguageModel({ url: server.url, retries: 3, retryBaseDelayMs: 1 });
    const received: string[] = [];
    const error = await caught(
      (async () => {
        for await (const part of model.stream({ prompt: "x" })) if (part.type === "token") received.push(part.text);
      })(),
    );
    expect(received).toEqual(["a", "b"]);
    expect(error.code).toBe("upstream_unavailable");
    expect(error.details).toMatchObject({ partsStreamed: 2 });
    expect(server.requests).toHaveLength(1);
  });

  it("restarts a stream that failed before its first token", async () => {
    let calls = 0;
    const server = await fake(async (_request, response) => {
      calls++;
      if (calls === 1) sendJson(response, 503, { error: "loading" });
      else await sendSse(response, tgiTokenEvents(["ok"]));
    });
    const model = createTgiLanguageModel({ url: server.url, retries: 1, retryBaseDelayMs: 1 });
    const parts = await collect(model.stream({ prompt: "x" }));
    expect(parts.map((part) => part.type)).toEqual(["token", "done"]);
    expect(calls).toBe(2);
  });

  it("leaves no listener on a long-lived caller signal after calls end (streamed or not)", async () => {
    const server = await fake(async (request, response) => {
      if (request.path === "/generate") sendJson(response, 200, generated);
      else await sendSse(response, tgiTokenEvents(["a"]));
    });
    const model = createTgiLanguageModel({ url: server.url });
    const shared = new AbortController();
    for (let index = 0; index < 5; index++) {
      await model.generate({ prompt: "x", signal: shared.signal });
      for await (const _part of model.stream({ prompt: "x", signal: shared.signal })) {
        // drain
      }
    }
    expect(getEventListeners(shared.signal, "abort")).toHaveLength(0);
  });

  it("health is GET /health: true on 200, false on 503; dispose refuses later calls", async () => {
    let ready = false;
    const server = await fake((_request, response) => sendJson(response, ready ? 200 : 503, {}));
    const model = createTgiLanguageModel({ url: server.url });
    expect(await model.health()).toBe(false);
    ready = true;
    expect(await model.health()).toBe(true);
    expect(server.requests.map((request) => `${request.method} ${request.path}`)).toEqual([
      "GET /health",
      "GET /health",
    ]);
    await model[Symbol.asyncDispose]();
    await expect(model.generate({ prompt: "x" })).rejects.toMatchObject({ code: "shutting_down" });
  });
});
