/**
 * serve-llm on --engine node-llama-cpp: a grammar request whose logit_bias bans the tokens the
 * schema needs is a 422 in each API's error shape (the native engine's message), and the service
 * keeps serving (src/llm/llama-cpp/sampling-guard.ts). Generated tiny chat model: '"' is token 263,
 * its byte token 39.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestService, type TestService } from "./helpers.js";

let service: TestService;
beforeAll(async () => {
  service = await startTestService({ backend: "node-llama-cpp" });
});
afterAll(async () => {
  await service?.close();
});

const post = (url: string, payload: object) => service.app.inject({ method: "POST", url, payload });
const SCHEMA = { enum: ["x"] };

describe("serve-llm --engine node-llama-cpp: grammar + ban", () => {
  it("OpenAI json_schema with a ban on '\"' is 422 invalid_request_error, then the same request without it is 200", async () => {
    const body = {
      messages: [{ role: "user", content: "Say x" }],
      max_tokens: 16,
      response_format: { type: "json_schema", json_schema: { name: "x", schema: SCHEMA } },
    };
    const refused = await post("/v1/chat/completions", { ...body, logit_bias: { "263": -100, "39": -100 } });
    expect(refused.statusCode, refused.body).toBe(422);
    expect(refused.json().error).toMatchObject({
      type: "invalid_request_error",
      message: expect.stringContaining("admits no token that logit_bias and ignore_eos allow"),
    });
    const served = await post("/v1/chat/completions", body);
    expect(served.statusCode, served.body).toBe(200);
    expect(JSON.parse(served.json().choices[0].message.content)).toBe("x");
  });

  it("TGI grammar with the same ban is 422 in TGI's shape; the service goes on serving", async () => {
    const parameters = { max_new_tokens: 16, grammar: { type: "json", value: SCHEMA } };
    const refused = await post("/generate", {
      inputs: "Say x",
      parameters: {
        ...parameters,
        logit_bias: [
          [263, false],
          [39, false],
        ],
      },
    });
    expect(refused.statusCode, refused.body).toBe(422);
    expect(refused.json()).toEqual({
      error: expect.stringContaining("lift the ban on the tokens the schema needs"),
      error_type: "validation",
    });
    const served = await post("/generate", { inputs: "Say x", parameters });
    expect(served.statusCode, served.body).toBe(200);
    expect(JSON.parse(served.json().generated_text)).toBe("x");
  });
});
