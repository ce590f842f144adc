/**
 * LoRA adapters over HTTP (native engine): listed in /v1/models and /info, selected by TGI
 * `parameters.adapter_id`, OpenAI `model` and /invocations; unknown names are 422 unknown_adapter.
 * Both ways of applying them (--lora-mode batched: per token in one decode; contexts: one llama.cpp
 * context per adapter set).
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateLora, TINY_MODEL_PRESETS } from "../../src/gguf/index.js";
import { defaultBackend } from "../../src/llm/llama-cpp/index.js";
import { testEngineBackend } from "../../src/testing/engine-backend.js";
import { startTestService, type TestService } from "./helpers.js";

const native = (testEngineBackend().backend ?? defaultBackend()) === "native";

describe.skipIf(!native).each(["batched", "contexts"] as const)("LoRA adapters per request, %s mode", (loraMode) => {
  let service: TestService;
  let directory: string;
  beforeAll(async () => {
    directory = await mkdtemp(path.join(tmpdir(), "llm-twin-lora-http-"));
    const adapter = path.join(directory, "style.gguf");
    await generateLora(adapter, { base: TINY_MODEL_PRESETS.chat, rank: 4, alpha: 4, seed: 11 });
    service = await startTestService({
      loraMode,
      loras: [
        { name: "style", path: adapter, scale: 1 },
        { name: "muted", path: adapter, scale: 0 },
      ],
    });
  });
  afterAll(async () => {
    await service?.close();
    if (directory !== undefined) await rm(directory, { recursive: true, force: true });
  });

  const tgi = async (url: string, adapterId?: string) => {
    const response = await service.app.inject({
      method: "POST",
      url,
      payload: {
        inputs: "The twin writes",
        parameters: {
          max_new_tokens: 10,
          ignore_eos: true,
          ...(adapterId === undefined ? {} : { adapter_id: adapterId }),
        },
      },
    });
    return { status: response.statusCode, json: response.json() as unknown };
  };
  const text = (json: unknown): string => {
    const value = Array.isArray(json) ? json[0] : json;
    return (value as { generated_text: string }).generated_text;
  };

  it("lists the adapters in /v1/models and /info", async () => {
    const models = (await service.app.inject({ method: "GET", url: "/v1/models" })).json() as {
      data: Array<{ id: string; parent?: string }>;
    };
    expect(models.data.map((model) => model.id)).toEqual(["tiny-chat", "style", "muted"]);
    expect(models.data[1]?.parent).toBe("tiny-chat");
    const info = (await service.app.inject({ method: "GET", url: "/info" })).json() as { adapters: unknown };
    expect(info.adapters).toEqual([
      { name: "style", scale: 1, registry: null, author: null },
      { name: "muted", scale: 0, registry: null, author: null },
    ]);
  });

  it("selects an adapter by TGI adapter_id, OpenAI model and /invocations; scale 0 equals the base", async () => {
    const base = text((await tgi("/generate")).json);
    const styled = await tgi("/generate", "style");
    expect(styled.status).toBe(200);
    expect(text(styled.json)).not.toBe(base);
    expect(text((await tgi("/generate", "muted")).json)).toBe(base);
    expect(text((await tgi("/invocations", "style")).json)).toBe(text(styled.json));
    const openai = await service.app.inject({
      method: "POST",
      url: "/v1/completions",
      payload: { model: "style", prompt: "The twin writes", max_tokens: 10, temperature: 0, ignore_eos: true },
    });
    const body = openai.json() as { model: string; choices: Array<{ text: string }> };
    expect(body.model).toBe("style");
    expect(body.choices[0]?.text).toBe(text(styled.json));
  });

  it("runs requests for different adapters concurrently, each with its own output", async () => {
    const alone = [text((await tgi("/generate", "style")).json), text((await tgi("/generate")).json)];
    const together = await Promise.all([tgi("/generate", "style"), tgi("/generate")]);
    expect(together.map((result) => text(result.json))).toEqual(alone);
  });

  it("gives both choices of n = 2 on an adapter its solo output while a base request runs", async () => {
    const complete = async (model: string, n: number) => {
      const response = await service.app.inject({
        method: "POST",
        url: "/v1/completions",
        payload: { model, prompt: "The twin writes", max_tokens: 10, temperature: 0, ignore_eos: true, n },
      });
      expect(response.statusCode).toBe(200);
      return (response.json() as { choices: Array<{ text: string }> }).choices.map((choice) => choice.text);
    };
    const [styled] = await complete("style", 1);
    const [base] = await complete("tiny-chat", 1);
    expect(styled).not.toBe(base);
    const [pair, alongside] = await Promise.all([complete("style", 2), complete("tiny-chat", 1)]);
    expect(pair).toEqual([styled, styled]);
    expect(alongside).toEqual([base]);
  });

  it("/invocations picks the adapter from an OpenAI body's model, completions and chat alike", async () => {
    const styled = text((await tgi("/generate", "style")).json);
    const completion = await service.app.inject({
      method: "POST",
      url: "/invocations",
      payload: { model: "style", prompt: "The twin writes", max_tokens: 10, temperature: 0, ignore_eos: true },
    });
    expect(completion.json()).toMatchObject({ model: "style", choices: [{ text: styled }] });
    const chat = { messages: [{ role: "user", content: "Hi" }], max_tokens: 8, temperature: 0, ignore_eos: true };
    const content = async (url: string, model: string) =>
      (
        (await service.app.inject({ method: "POST", url, payload: { ...chat, model } })).json() as {
          choices: Array<{ message: { content: string } }>;
        }
      ).choices[0]?.message.content;
    const styledChat = await content("/v1/chat/completions", "style");
    expect(styledChat).not.toBe(await content("/v1/chat/completions", "tiny-chat"));
    expect(await content("/invocations", "style")).toBe(styledChat);
  });

  it("refuses an unknown adapter with 422 unknown_adapter", async () => {
    const response = await tgi("/generate", "nobody");
    expect(response.status).toBe(422);
    expect(response.json).toMatchObject({ error_type: "unknown_adapter" });
    expect(JSON.stringify(response.json)).toMatch(/nobody/);
  });

  it("refuses an OpenAI model naming no adapter (the base model's id and TGI's 'tgi' mean the base)", async () => {
    const complete = (model: string, url = "/v1/completions") =>
      service.app.inject({
        method: "POST",
        url,
        payload:
          url === "/v1/completions"
            ? { model, prompt: "The twin writes", max_tokens: 4, temperature: 0 }
            : { model, messages: [{ role: "user", content: "Hi" }], max_tokens: 4, temperature: 0 },
      });
    for (const url of ["/v1/completions", "/v1/chat/completions"]) {
      const typo = await complete("stlye", url);
      expect(typo.statusCode).toBe(422);
      const error = (typo.json() as { error: { code: string; message: string; param: string } }).error;
      expect(error).toMatchObject({ code: "unknown_adapter", param: "model" });
      expect(error.message).toMatch(/'stlye'.*'tiny-chat'.*'style', 'muted'/);
    }
    // SageMaker's route answers TGI's error shape.
    const invocation = await complete("stlye", "/invocations");
    expect(invocation.statusCode).toBe(422);
    expect(invocation.json()).toMatchObject({ error_type: "unknown_adapter", error: expect.stringMatching(/'stlye'/) });
    for (const model of ["tiny-chat", "tgi"]) {
      const base = await complete(model);
      expect(base.statusCode).toBe(200);
      expect((base.json() as { model: string }).model).toBe("tiny-chat");
    }
  });
});
