/**
 * What a TGI or SageMaker user runs into, driven with the exact JSON TGI documents: `truncate`
 * beyond the input limit, /info's required fields, /tokenize with TGI's body, /invocations with
 * OpenAI's completions body, and wrong input as users send it (one 4xx with a stable code each,
 * never a 500).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testEngineBackend } from "../../src/testing/engine-backend.js";
import { sseData, startTestService, type TestService } from "./helpers.js";

let service: TestService;
beforeAll(async () => {
  service = await startTestService({ maxTotalTokens: 128, maxInputTokens: 64, maxNewTokens: 100 });
});
afterAll(async () => {
  await service?.close();
});

const post = (url: string, payload: unknown) =>
  service.app.inject({
    method: "POST",
    url,
    payload: payload as object,
    headers: { "content-type": "application/json" },
  });

describe("token texts", () => {
  // Greedy on the tiny model, "The twin writes" ends with a byte token (an incomplete character,
  // held back) and then the end-of-generation token, which brings the held text out.
  it("add up to generated_text without the special tokens, as clients that skip them read a stream", async () => {
    const parameters = { max_new_tokens: 8, details: true };
    const streamed = await post("/generate_stream", { inputs: "The twin writes", parameters });
    const events = sseData(streamed.body).map(
      (data) => JSON.parse(data) as { token: { text: string; special: boolean }; generated_text: string | null },
    );
    const last = events.at(-1);
    expect(last?.token.special).toBe(true);
    expect(last?.generated_text).not.toBe("");
    const visible = events.filter((event) => !event.token.special).map((event) => event.token.text);
    expect(visible.join("")).toBe(last?.generated_text);

    const generated = (await post("/generate", { inputs: "The twin writes", parameters })).json() as {
      generated_text: string;
      details: { tokens: Array<{ text: string; special: boolean }> };
    };
    const tokens = generated.details.tokens.filter((token) => !token.special).map((token) => token.text);
    expect(tokens.join("")).toBe(generated.generated_text);
  });
});

describe("top_tokens", () => {
  it("mark the end-of-generation token special, as the token itself is", async () => {
    const response = await post("/generate", {
      inputs: "The twin writes",
      parameters: { max_new_tokens: 8, details: true, top_n_tokens: 3 },
    });
    const details = response.json().details as {
      finish_reason: string;
      tokens: Array<{ id: number; special: boolean }>;
      top_tokens: Array<Array<{ id: number; special: boolean }>>;
    };
    expect(details.finish_reason).toBe("eos_token");
    details.tokens.forEach((token, index) => {
      const same = details.top_tokens[index]?.find((top) => top.id === token.id);
      expect(same?.special, `position ${index}`).toBe(token.special);
    });
    expect(details.top_tokens.flat().some((top) => top.special)).toBe(true);
  });
});

describe("greedy or sampled, by TGI's rule", () => {
  // Token ids and seed (logprobs may differ in their last digits between runs).
  const details = async (parameters: Record<string, unknown>) => {
    const response = await post("/generate", {
      inputs: "Sample me",
      parameters: { max_new_tokens: 8, ignore_eos: true, details: true, ...parameters },
    });
    const json = response.json() as { details: { seed: number | null; tokens: Array<{ id: number }> } };
    return { seed: json.details.seed, ids: json.details.tokens.map((token) => token.id) };
  };

  it("top_k or top_p < 1 alone samples (at temperature 1), as do_sample does", async () => {
    for (const warper of [{ top_k: 5 }, { top_p: 0.5 }]) {
      const warped = await details({ ...warper, seed: 3 });
      expect(warped.seed, JSON.stringify(warper)).toBe(3);
      expect(warped).toEqual(await details({ ...warper, seed: 3, do_sample: true }));
    }
    const bestOf = await post("/generate", { inputs: "Hi", parameters: { top_k: 5, best_of: 2, max_new_tokens: 2 } });
    expect(bestOf.statusCode).toBe(200);
  });

  it("temperature 1 alone (TGI's default) and temperature 0 stay greedy", async () => {
    const greedy = await details({});
    expect(greedy.seed).toBeNull();
    expect(await details({ temperature: 1 })).toEqual(greedy);
    expect(await details({ temperature: 0, top_k: 5 })).toEqual(greedy);
    expect((await details({ temperature: 0.7, seed: 3 })).seed).toBe(3);
  });
});

describe("grammar {type: regex}", () => {
  const patterns = [
    "[0-9]{3}-[0-9]{4}",
    "(yes|no)",
    "\\d{1,3}(\\.\\d{2})?",
    "[A-Z][a-z]{2,5} [a-z]{1,3}",
    '"[^"\\n]{0,6}"',
  ];
  it.each(patterns)("%s: every output matches in full, greedy or sampled", async (pattern) => {
    const whole = new RegExp(`^(?:${pattern})$`, "u");
    for (const parameters of [{}, { do_sample: true, seed: 1 }, { do_sample: true, seed: 2 }]) {
      const response = await post("/generate", {
        inputs: "Answer",
        parameters: { max_new_tokens: 40, grammar: { type: "regex", value: pattern }, ...parameters },
      });
      expect(response.statusCode).toBe(200);
      expect(response.json().generated_text).toMatch(whole);
    }
  });
});

describe("truncate", () => {
  it("above the input token limit is 422 on every TGI route, as TGI refuses it", async () => {
    for (const [url, stream] of [
      ["/generate", false],
      ["/generate_stream", false],
      ["/", true],
      ["/invocations", false],
    ] as const) {
      const response = await post(url, { inputs: "Hi", parameters: { truncate: 65, max_new_tokens: 2 }, stream });
      expect(response.statusCode, url).toBe(422);
      expect(response.json(), url).toEqual({
        error: expect.stringMatching(
          /`truncate` must be strictly positive and at most 64 .*--max-input-tokens.*Given: 65/,
        ),
        error_type: "validation",
      });
    }
  });

  it("at the limit keeps the last tokens of a longer input", async () => {
    const response = await post("/generate", {
      inputs: "word ".repeat(80),
      parameters: { truncate: 64, max_new_tokens: 2, details: true },
    });
    expect(response.statusCode).toBe(200);
    expect(response.json().details.input_length).toBe(64);
  });
});

describe("TGI's response headers", () => {
  it("/generate, / and /invocations carry TGI's timing and token-count headers", async () => {
    for (const url of ["/generate", "/", "/invocations"]) {
      const response = await post(url, {
        inputs: "The twin",
        parameters: { max_new_tokens: 5, ignore_eos: true, details: true },
      });
      expect(response.statusCode, url).toBe(200);
      const headers = response.headers;
      for (const name of [
        "x-total-time",
        "x-validation-time",
        "x-queue-time",
        "x-inference-time",
        "x-time-per-token",
      ]) {
        expect(headers[name], `${url} ${name}`).toMatch(/^\d+$/);
      }
      const body = response.json() as
        | { details: { generated_tokens: number; input_length: number } }
        | Array<{ details: { generated_tokens: number; input_length: number } }>;
      const details = (Array.isArray(body) ? body[0] : body)?.details;
      expect(headers["x-generated-tokens"]).toBe("5");
      expect(headers["x-prompt-tokens"]).toBe(String(details?.input_length));
      expect(headers["x-compute-characters"]).toBe(String("The twin".length));
      expect(headers["x-compute-type"]).toBe("cpu");
      expect(Number(headers["x-compute-time"])).toBeGreaterThanOrEqual(0);
    }
  });
});

describe("streamed responses", () => {
  it("carry x-request-id like every other response (TGI, OpenAI and SageMaker streams)", async () => {
    const streams: Array<[string, object]> = [
      ["/generate_stream", { inputs: "Hi", parameters: { max_new_tokens: 2 } }],
      ["/", { inputs: "Hi", parameters: { max_new_tokens: 2 }, stream: true }],
      ["/invocations", { inputs: "Hi", parameters: { max_new_tokens: 2 }, stream: true }],
      ["/v1/completions", { prompt: "Hi", max_tokens: 2, stream: true }],
      ["/v1/chat/completions", { messages: [{ role: "user", content: "Hi" }], max_tokens: 2, stream: true }],
    ];
    for (const [index, [url, payload]] of streams.entries()) {
      const response = await service.app.inject({
        method: "POST",
        url,
        payload,
        headers: { "content-type": "application/json", "x-request-id": `client-stream-${index}` },
      });
      expect(response.headers["content-type"], url).toBe("text/event-stream");
      expect(response.headers["x-request-id"], url).toBe(`client-stream-${index}`);
    }
  });
});

describe("GET /info", () => {
  it("has every field TGI's Info schema requires", async () => {
    const info = (await service.app.inject({ method: "GET", url: "/info" })).json() as Record<string, unknown>;
    for (const field of [
      "model_id",
      "max_concurrent_requests",
      "max_best_of",
      "max_stop_sequences",
      "max_input_tokens",
      "max_total_tokens",
      "validation_workers",
      "max_client_batch_size",
      "router",
      "version",
    ]) {
      expect(info[field], field).toBeDefined();
    }
    expect(info.validation_workers).toBe(1);
  });
});

describe("POST /tokenize with TGI's body", () => {
  it("lists the tokens /generate sees, with byte offsets that slice the input", async () => {
    const inputs = "The twin writes é<|im_start|>x";
    const response = await post("/tokenize", { inputs, parameters: { max_new_tokens: 2 } });
    expect(response.statusCode).toBe(200);
    const tokens = response.json() as Array<{ id: number; text: string; start: number; stop: number }>;
    const generated = await post("/generate", {
      inputs,
      parameters: { max_new_tokens: 1, details: true, decoder_input_details: true },
    });
    const prefill = (generated.json().details.prefill as Array<{ id: number }>).map((token) => token.id);
    expect(tokens.map((token) => token.id)).toEqual(prefill);
    const bytes = Buffer.from(inputs, "utf8");
    let previousStop = 0;
    for (const token of tokens) {
      expect(token.start).toBe(previousStop);
      expect(token.stop).toBeGreaterThanOrEqual(token.start);
      const slice = bytes.subarray(token.start, token.stop);
      // A byte of a split character has no text of its own.
      if (token.text !== "") expect(token.text).toBe(slice.toString("utf8"));
      previousStop = token.stop;
    }
    expect(previousStop).toBe(bytes.length);
    expect(tokens[0]).toMatchObject({ start: 0, stop: 0, text: "" });
    expect(tokens.find((token) => token.text === "<|im_start|>")).toBeDefined();
  });

  it("keeps llama-server's body and answer", async () => {
    const response = await post("/tokenize", { content: "The twin" });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ tokens: expect.any(Array) });
  });

  it("refuses an empty `inputs` with 422", async () => {
    const response = await post("/tokenize", { inputs: "" });
    expect(response.statusCode).toBe(422);
    expect(response.json().error.message).toMatch(/`inputs` cannot be empty/);
  });
});

describe("POST /invocations with OpenAI's completions body", () => {
  it("answers a text completion, streamed or not", async () => {
    const response = await post("/invocations", { prompt: "Hi", max_tokens: 3, ignore_eos: true });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({
      object: "text_completion",
      choices: [{ index: 0, text: expect.any(String), finish_reason: "length" }],
      usage: { completion_tokens: 3 },
    });
    const streamed = await post("/invocations", { prompt: "Hi", max_tokens: 3, ignore_eos: true, stream: true });
    expect(streamed.statusCode).toBe(200);
    const events = sseData(streamed.body);
    expect(events.at(-1)).toBe("[DONE]");
    expect(JSON.parse(events[0] ?? "{}")).toMatchObject({ object: "text_completion" });
  });

  it("ignores SageMaker's X-Amzn-SageMaker-* headers, as TGI's container does", async () => {
    const payload = { inputs: "Hi", parameters: { max_new_tokens: 3, ignore_eos: true } };
    const plain = await post("/invocations", payload);
    const withHeaders = await service.app.inject({
      method: "POST",
      url: "/invocations",
      payload,
      headers: {
        "content-type": "application/json",
        "x-amzn-sagemaker-custom-attributes": "adapter_id=style,trace=1",
        "x-amzn-sagemaker-target-model": "other.tar.gz",
        "x-amzn-sagemaker-inference-id": "abc",
      },
    });
    expect(withHeaders.statusCode).toBe(200);
    expect(withHeaders.json()).toEqual(plain.json());
    expect(withHeaders.headers["x-amzn-sagemaker-custom-attributes"]).toBeUndefined();
    expect(withHeaders.headers["x-request-id"]).toEqual(expect.any(String));
  });

  it("refuses a bad completions body with 422 in TGI's shape", async () => {
    const response = await post("/invocations", { prompt: "Hi", max_tokens: -1 });
    expect(response.statusCode).toBe(422);
    expect(response.json()).toEqual({ error: expect.stringContaining("max_tokens"), error_type: "validation" });
  });
});

describe("wrong input as users send it", () => {
  // On /generate_stream, best_of > 1 is refused for streaming first (TGI's own rule), as `validation`.
  const cases: Array<[string, unknown, number, string]> = [
    ["unknown adapter", { inputs: "Hi", parameters: { adapter_id: "nope" } }, 422, "unknown_adapter"],
    ["best_of without sampling", { inputs: "Hi", parameters: { best_of: 2 } }, 422, "validation"],
    [
      "best_of above --parallel",
      { inputs: "Hi", parameters: { best_of: 3, do_sample: true } },
      422,
      "too_many_choices",
    ],
    ["top_n_tokens above 20", { inputs: "Hi", parameters: { top_n_tokens: 21 } }, 422, "validation"],
    ["max_new_tokens 0", { inputs: "Hi", parameters: { max_new_tokens: 0 } }, 422, "validation"],
    ["max_new_tokens huge", { inputs: "Hi", parameters: { max_new_tokens: 1e12 } }, 422, "validation"],
    ["truncate 0", { inputs: "Hi", parameters: { truncate: 0 } }, 422, "validation"],
    [
      "grammar of another type",
      { inputs: "Hi", parameters: { grammar: { type: "xml", value: "x" } } },
      422,
      "validation",
    ],
    [
      "grammar that is not JSON",
      { inputs: "Hi", parameters: { grammar: { type: "json", value: "{x" } } },
      422,
      "validation",
    ],
    [
      "grammar with an unknown type",
      { inputs: "Hi", parameters: { grammar: { type: "json", value: { type: "frobnicate" } } } },
      422,
      "validation",
    ],
    [
      "regex grammar with a lookahead",
      { inputs: "Hi", parameters: { grammar: { type: "regex", value: "(?=a)b" } } },
      422,
      "validation",
    ],
    [
      "regex grammar that is not a string",
      { inputs: "Hi", parameters: { grammar: { type: "regex", value: {} } } },
      422,
      "validation",
    ],
    ["typical_p out of (0, 1)", { inputs: "Hi", parameters: { typical_p: 1.5 } }, 422, "validation"],
    ["inputs over the limit", { inputs: "word ".repeat(80) }, 422, "validation"],
    ["no inputs", { parameters: {} }, 422, "validation"],
    ["a list body", [{ inputs: "Hi" }], 422, "validation"],
  ];
  it.each(cases)("%s: one clear error", async (_name, payload, status, errorType) => {
    for (const url of ["/generate", "/generate_stream", "/", "/invocations"]) {
      const response = await post(url, payload);
      expect(response.statusCode, url).toBe(status);
      const body = response.json() as { error: unknown; error_type: unknown };
      const streamingBestOf = url === "/generate_stream" && errorType === "too_many_choices";
      expect(body.error_type, url).toBe(streamingBestOf ? "validation" : errorType);
      expect(typeof body.error).toBe("string");
      expect(body.error as string).not.toMatch(/\n\s+at /);
    }
  });

  it("typical_p samples with llama.cpp's typical sampler (native engine; node-llama-cpp has none: 422)", async () => {
    const generate = (parameters: object) =>
      post("/generate", { inputs: "Hi", parameters: { max_new_tokens: 12, seed: 7, ...parameters } });
    const typical = await generate({ typical_p: 0.2 });
    if (testEngineBackend().backend === "node-llama-cpp") {
      expect(typical.statusCode).toBe(422);
      expect((typical.json() as { error: string }).error).toMatch(/--engine native/);
      return;
    }
    expect(typical.statusCode).toBe(200);
    const sampled = (await generate({ do_sample: true })).json() as { generated_text: string };
    const again = (await generate({ typical_p: 0.2 })).json() as { generated_text: string };
    const text = (typical.json() as { generated_text: string }).generated_text;
    expect(again.generated_text).toBe(text);
    expect(text).not.toBe(sampled.generated_text);
  });

  it("a body that is not JSON is 400 on every TGI route", async () => {
    for (const url of ["/generate", "/generate_stream", "/", "/invocations", "/tokenize"]) {
      const response = await service.app.inject({
        method: "POST",
        url,
        payload: '{"inputs": "Hi",',
        headers: { "content-type": "application/json" },
      });
      expect(response.statusCode, url).toBe(400);
      expect(JSON.stringify(response.json())).toMatch(/not valid JSON/);
    }
  });
});
