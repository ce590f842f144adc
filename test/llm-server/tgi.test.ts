import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { defaultBackend } from "../../src/llm/llama-cpp/index.js";
import { testEngineBackend } from "../../src/testing/engine-backend.js";
import { sseData, startTestService, type TestService } from "./helpers.js";

let service: TestService;
beforeAll(async () => {
  service = await startTestService();
});
afterAll(async () => {
  await service?.close();
});

type TgiToken = { id: number; text: string; logprob: number | null; special: boolean };
type TgiResponse = {
  generated_text: string;
  details?: {
    finish_reason: string;
    generated_tokens: number;
    input_length: number;
    seed: number | null;
    prefill: Array<{ id: number; text: string }>;
    tokens: TgiToken[];
  };
};

async function generate(body: unknown, url = "/generate"): Promise<{ status: number; json: TgiResponse }> {
  const response = await service.app.inject({ method: "POST", url, payload: body as object });
  return { status: response.statusCode, json: response.json() as TgiResponse };
}

describe("TGI API", () => {
  it("POST /generate returns generated_text, and details with finish reason and token counts", async () => {
    const { status, json } = await generate({
      inputs: "Hello world",
      parameters: { max_new_tokens: 8, details: true, decoder_input_details: true, ignore_eos: true },
    });
    expect(status).toBe(200);
    expect(typeof json.generated_text).toBe("string");
    expect(json.details?.finish_reason).toBe("length");
    expect(json.details?.generated_tokens).toBe(8);
    expect(json.details?.tokens).toHaveLength(8);
    expect(json.details?.prefill.length).toBe(json.details?.input_length);
    expect(json.details?.tokens.map((token) => token.text).join("")).toBe(json.generated_text);
    for (const token of json.details?.tokens ?? []) expect(token.logprob).toBeLessThanOrEqual(0);
  });

  it("greedy generation is deterministic and return_full_text prepends the input", async () => {
    const parameters = { max_new_tokens: 12, ignore_eos: true };
    const first = await generate({ inputs: "The twin", parameters });
    const second = await generate({ inputs: "The twin", parameters: { ...parameters, return_full_text: true } });
    expect(second.json.generated_text).toBe(`The twin${first.json.generated_text}`);
  });

  it("the same seed reproduces a sampled generation; another seed differs", async () => {
    const parameters = {
      max_new_tokens: 24,
      temperature: 1.0,
      top_k: 50,
      top_p: 0.95,
      ignore_eos: true,
      details: true,
    };
    const a = await generate({ inputs: "Seeded", parameters: { ...parameters, seed: 42 } });
    const b = await generate({ inputs: "Seeded", parameters: { ...parameters, seed: 42 } });
    const c = await generate({ inputs: "Seeded", parameters: { ...parameters, seed: 7 } });
    expect(a.json.details?.seed).toBe(42);
    expect(b.json.generated_text).toBe(a.json.generated_text);
    expect(c.json.details?.tokens.map((t) => t.id)).not.toEqual(a.json.details?.tokens.map((t) => t.id));
  });

  it("stops at a stop sequence spanning tokens, without emitting it", async () => {
    const parameters = { max_new_tokens: 40, ignore_eos: true, logit_bias: [[0, false]] };
    const reference = (await generate({ inputs: "Stop here", parameters })).json.generated_text;
    const stop = reference.slice(15, 19);
    expect(stop).toHaveLength(4);
    const { json } = await generate({
      inputs: "Stop here",
      parameters: { ...parameters, stop: [stop], details: true },
    });
    expect(json.generated_text).toBe(reference.slice(0, reference.indexOf(stop)));
    expect(json.details?.finish_reason).toBe("stop_sequence");
  });

  it("logit_bias bans token ids and can force one", async () => {
    const banned = Object.fromEntries(Array.from({ length: 300 }, (_, id) => [String(id), -100]));
    const { json } = await generate({
      inputs: "Bias",
      parameters: { max_new_tokens: 20, logit_bias: banned, details: true },
    });
    for (const token of json.details?.tokens ?? []) if (!token.special) expect(token.id).toBeGreaterThanOrEqual(300);
    const forced = await generate({
      inputs: "Bias",
      parameters: { max_new_tokens: 5, logit_bias: { "400": 100 }, details: true, ignore_eos: true },
    });
    expect(forced.json.details?.tokens.map((token) => token.id)).toEqual([400, 400, 400, 400, 400]);
  });

  it("a JSON-schema grammar yields JSON of that shape", async () => {
    const schema = { type: "object", properties: { answer: { type: "boolean" } }, required: ["answer"] };
    const { status, json } = await generate({
      inputs: "Answer in JSON",
      parameters: { max_new_tokens: 40, grammar: { type: "json", value: schema } },
    });
    expect(status).toBe(200);
    const parsed = JSON.parse(json.generated_text) as { answer: unknown };
    expect(typeof parsed.answer).toBe("boolean");
  });

  it("accepts every TGI parameter a client sends, mostly null (huggingface_hub style)", async () => {
    const { status, json } = await generate({
      inputs: "All parameters",
      parameters: {
        best_of: null,
        decoder_input_details: false,
        details: true,
        do_sample: false,
        frequency_penalty: null,
        grammar: null,
        max_new_tokens: 4,
        repetition_penalty: 1.1,
        return_full_text: false,
        seed: null,
        stop: [],
        temperature: null,
        top_k: null,
        top_n_tokens: null,
        top_p: null,
        truncate: 3,
        typical_p: null,
        watermark: false,
        adapter_id: null,
      },
    });
    expect(status).toBe(200);
    expect(json.details?.input_length).toBe(3);
  });

  it("POST /generate_stream frames TGI token events, the last one carrying generated_text and details", async () => {
    const response = await service.app.inject({
      method: "POST",
      url: "/generate_stream",
      payload: { inputs: "Stream me", parameters: { max_new_tokens: 6, details: true, ignore_eos: true } },
    });
    expect(response.statusCode).toBe(200);
    expect(response.headers["content-type"]).toBe("text/event-stream");
    expect(response.body.startsWith('data:{"index":0,')).toBe(true);
    const events = sseData(response.body).map((data) => JSON.parse(data) as Record<string, unknown>);
    expect(events).toHaveLength(6);
    for (const event of events.slice(0, -1)) {
      expect(Object.keys(event)).toEqual(["index", "token", "generated_text", "details"]);
      expect(event.generated_text).toBeNull();
      expect(event.details).toBeNull();
    }
    const last = events.at(-1) as { generated_text: string; details: Record<string, unknown> };
    const tokens = events.map((event) => (event.token as TgiToken).text).join("");
    expect(last.generated_text).toBe(tokens);
    expect(last.details).toMatchObject({ finish_reason: "length", generated_tokens: 6 });
    expect(Object.keys(events[0]?.token as object).sort()).toEqual(["id", "logprob", "special", "text"]);
  });

  it("GET /info describes the model and limits; GET /health is 200", async () => {
    const info = await service.app.inject({ method: "GET", url: "/info" });
    expect(info.json()).toMatchObject({
      model_id: "tiny-chat",
      max_input_tokens: 1024,
      max_total_tokens: 2048,
      max_batch_size: 2,
      model_pipeline_tag: "text-generation",
      engine: testEngineBackend().backend ?? defaultBackend(),
    });
    expect((await service.app.inject({ method: "GET", url: "/health" })).statusCode).toBe(200);
  });
});

describe("SageMaker container contract", () => {
  it("GET /ping is 200 and POST /invocations answers TGI's payload as a list", async () => {
    expect((await service.app.inject({ method: "GET", url: "/ping" })).statusCode).toBe(200);
    const response = await service.app.inject({
      method: "POST",
      url: "/invocations",
      headers: { "content-type": "application/json" },
      payload: {
        inputs: "Reference payload",
        parameters: {
          max_new_tokens: 5,
          top_p: 0.9,
          temperature: 0.01,
          return_full_text: false,
          repetition_penalty: 1.1,
        },
      },
    });
    expect(response.statusCode).toBe(200);
    const body = response.json() as Array<{ generated_text: string }>;
    expect(Array.isArray(body)).toBe(true);
    expect(typeof body[0]?.generated_text).toBe("string");
  });

  it("POST /invocations with stream: true answers TGI's SSE stream", async () => {
    const response = await service.app.inject({
      method: "POST",
      url: "/invocations",
      payload: { inputs: "Stream", parameters: { max_new_tokens: 3, ignore_eos: true }, stream: true },
    });
    const events = sseData(response.body).map((data) => JSON.parse(data) as { generated_text: string | null });
    expect(events).toHaveLength(3);
    expect(typeof events.at(-1)?.generated_text).toBe("string");
  });

  it("POST /invocations with OpenAI chat `messages` answers a chat completion, as TGI's container does", async () => {
    const response = await service.app.inject({
      method: "POST",
      url: "/invocations",
      payload: { messages: [{ role: "user", content: "Hi" }], max_tokens: 3 },
    });
    expect(response.statusCode).toBe(200);
    const body = response.json() as {
      object: string;
      choices: Array<{ message: { role: string; content: string } }>;
      usage: { completion_tokens: number };
    };
    expect(body.object).toBe("chat.completion");
    expect(body.choices[0]?.message.role).toBe("assistant");
    expect(typeof body.choices[0]?.message.content).toBe("string");
    expect(body.usage.completion_tokens).toBeLessThanOrEqual(3);
  });
});
