/**
 * Prompt monitoring: what a RAG answer's trace keeps (full prompt, retrieved chunks, answer, model,
 * template versions), the --trace-prompts policies, and the OTLP export in the GenAI semantic
 * conventions, checked by a local OTLP/HTTP receiver.
 */
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PROMPT_TEMPLATES_VERSION } from "../../preprocessing/index.js";
import { answerOnce, resolveRagConfig } from "../../rag/index.js";
import { fakeEmbedder, fakeLanguageModel, fakeStore, sampleChunks } from "../../rag/testing/fakes.js";
import { applyPromptCapture, type PromptCapture, redactText } from "./content-policy.js";
import { createOtlpSink } from "./otlp-sink.js";
import { openTraceLog } from "./trace-log.js";
import { createTracer } from "./tracer.js";
import type { TraceRecord } from "./types.js";

describe("redaction", () => {
  it("masks emails, keys and tokens, and secret-looking numbers, and leaves ordinary text alone", () => {
    expect(redactText("write to paul.iusztin@example.com now")).toBe("write to [email] now");
    expect(redactText("key sk-proj-abcdefghijklmnop1234 here")).toBe("key [key] here");
    expect(redactText("AWS AKIAABCDEFGHIJKLMNOP and ghp_abcdefghijklmnopqrstuvwxyz0123456789")).toBe(
      "AWS [key] and [key]",
    );
    expect(redactText("Authorization: Bearer abc.def-ghi_jkl")).toBe("Authorization: [key]");
    expect(redactText("password=hunter22 and api_key: 'zzzz1234'")).toBe("password=[key] and api_key: [key]");
    expect(redactText("card 4111 1111 1111 1111, ssn 123-45-6789")).toBe("card [number], ssn [number]");
    expect(redactText("sha 0123456789abcdef0123456789abcdef")).toBe("sha [key]");
    const ordinary = "In 2024 we chunked 1,000-2,000 characters with k=3 and 150 tokens on port 8080.";
    expect(redactText(ordinary)).toBe(ordinary);
  });
});

function sampleRecord(): TraceRecord {
  return {
    id: "a".repeat(32),
    rootSpanId: "b".repeat(16),
    name: "rag",
    startTime: 0,
    durationMs: 1,
    status: "ok",
    attributes: { query: "mail me at me@example.com", k: 3, answer: "call 4111 1111 1111 1111" },
    spans: [
      {
        id: "c".repeat(16),
        name: "prompt",
        startTime: 0,
        durationMs: 0,
        status: "ok",
        attributes: {
          promptChars: 10,
          promptMessages: [{ role: "user", content: "token=abcd1234efgh" }],
          retrievedChunks: [{ id: "x", score: 0.5, text: "write to a@b.io" }],
          templateVersions: { prompt: "prompt-v1" },
        },
      },
    ],
  };
}

describe("prompt capture policy", () => {
  it("full keeps everything, redacted masks content only, off drops content but keeps the rest", () => {
    const record = sampleRecord();
    expect(applyPromptCapture(record, "full")).toBe(record);
    const redacted = applyPromptCapture(record, "redacted");
    expect(redacted.attributes).toEqual({
      query: "mail me at [email]",
      k: 3,
      answer: "call [number]",
      promptCapture: "redacted",
    });
    expect(redacted.spans[0]?.attributes).toMatchObject({
      promptChars: 10,
      promptMessages: [{ role: "user", content: "token=[key]" }],
      retrievedChunks: [{ id: "x", score: 0.5, text: "write to [email]" }],
    });
    const off = applyPromptCapture(record, "off");
    expect(off.attributes).toEqual({ k: 3, promptCapture: "off" });
    expect(off.spans[0]?.attributes).toEqual({ promptChars: 10, templateVersions: { prompt: "prompt-v1" } });
    // the original is untouched (the caller's record stays whole)
    expect(record.attributes.query).toBe("mail me at me@example.com");
  });
});

type OtlpAttribute = {
  key: string;
  value: {
    stringValue?: string;
    intValue?: string | number;
    doubleValue?: number;
    arrayValue?: { values: { stringValue?: string }[] };
  };
};
type OtlpSpan = {
  name: string;
  traceId: string;
  attributes: OtlpAttribute[];
  events?: { name: string; attributes: OtlpAttribute[] }[];
};

function attribute(span: OtlpSpan | undefined, key: string): unknown {
  const value = span?.attributes.find((entry) => entry.key === key)?.value;
  if (value === undefined) return undefined;
  if (value.arrayValue !== undefined) return value.arrayValue.values.map((item) => item.stringValue);
  return value.stringValue ?? (value.intValue === undefined ? value.doubleValue : Number(value.intValue));
}

describe("a RAG answer's trace, locally and over OTLP", () => {
  let collector: Server;
  let endpoint: string;
  const bodies: string[] = [];

  beforeAll(async () => {
    collector = createServer((request: IncomingMessage, response) => {
      let body = "";
      request.on("data", (chunk: Buffer) => {
        body += chunk.toString();
      });
      request.on("end", () => {
        if (request.url === "/v1/traces") bodies.push(body);
        response.writeHead(200, { "content-type": "application/json" }).end("{}");
      });
    });
    await new Promise<void>((resolve) => collector.listen(0, "127.0.0.1", resolve));
    endpoint = `http://127.0.0.1:${(collector.address() as AddressInfo).port}`;
  });
  afterAll(() => {
    collector.close();
  });

  async function answerWith(policy: PromptCapture, query: string) {
    bodies.length = 0;
    const embedder = fakeEmbedder();
    const deps = {
      store: fakeStore(sampleChunks(), embedder),
      embedder,
      llm: fakeLanguageModel(),
      config: resolveRagConfig({ expandQueries: 1 }),
    };
    const log = await openTraceLog({ capacity: 10 });
    const tracer = createTracer([log, createOtlpSink({ endpoint, serviceName: "rag-test", exportDelayMs: 10 })], {
      promptCapture: policy,
    });
    const trace = tracer.startTrace("rag", { query });
    const response = await answerOnce({ query }, deps, { trace });
    trace.end();
    await tracer[Symbol.asyncDispose]();
    const local = log.get(trace.id);
    const spans = bodies.flatMap((body) =>
      (JSON.parse(body) as { resourceSpans: { scopeSpans: { spans: OtlpSpan[] }[] }[] }).resourceSpans.flatMap(
        (resource) => resource.scopeSpans.flatMap((scope) => scope.spans),
      ),
    );
    return { response, local, spans, raw: bodies.join("\n") };
  }

  it("keeps the full prompt, the chunks, the answer, the model and the template versions, and exports gen_ai.* with prompt and completion events", async () => {
    const { response, local, spans } = await answerWith("full", "How do I fine-tune an LLM?");
    const prompt = local?.spans.find((span) => span.name === "prompt")?.attributes;
    const messages = prompt?.promptMessages as { role: string; content: string }[];
    expect(messages.map((message) => message.role)).toEqual(["system", "user"]);
    expect(messages[1]?.content).toContain("How do I fine-tune an LLM?");
    const chunks = prompt?.retrievedChunks as { id: string; text: string }[];
    expect(chunks.length).toBeGreaterThan(0);
    expect(messages[1]?.content).toContain(chunks[0]?.text);
    expect(prompt?.templateVersions).toMatchObject({ prompt: PROMPT_TEMPLATES_VERSION });
    expect(local?.attributes.answer).toBe(response.answer);
    const generation = local?.spans.find((span) => span.name === "generation")?.attributes;
    expect(generation).toMatchObject({ model: expect.any(String), adapter: null });

    const chat = spans.find((span) => span.name.startsWith("chat "));
    expect(chat?.name).toBe(`chat ${String(generation?.model)}`);
    expect(attribute(chat, "gen_ai.operation.name")).toBe("chat");
    expect(attribute(chat, "gen_ai.system")).toBe("llm-twin");
    expect(attribute(chat, "gen_ai.request.model")).toBe(generation?.model);
    expect(attribute(chat, "gen_ai.usage.input_tokens")).toBe(response.usage.promptTokens);
    expect(attribute(chat, "gen_ai.usage.output_tokens")).toBe(response.usage.completionTokens);
    expect(attribute(chat, "gen_ai.request.temperature")).toBeCloseTo(0.01, 9);
    expect(attribute(chat, "gen_ai.response.finish_reasons")).toEqual([generation?.finishReason]);
    const input = JSON.parse(String(attribute(chat, "gen_ai.input.messages"))) as {
      role: string;
      parts: { content: string }[];
    }[];
    expect(input[1]?.parts[0]?.content).toContain("How do I fine-tune an LLM?");
    const output = JSON.parse(String(attribute(chat, "gen_ai.output.messages"))) as { parts: { content: string }[] }[];
    expect(output[0]?.parts[0]?.content).toBe(response.answer);
    expect(chat?.events?.map((event) => event.name)).toEqual(["gen_ai.content.prompt", "gen_ai.content.completion"]);
    expect(spans.every((span) => span.traceId === local?.id)).toBe(true);
  });

  it("redacted: no email or key reaches the log or the collector", async () => {
    const { local, raw } = await answerWith(
      "redacted",
      "Email jane.doe@example.com my key sk-live-abcdefghijklmnop1234",
    );
    expect(JSON.stringify(local)).not.toContain("jane.doe@example.com");
    expect(raw).not.toContain("jane.doe@example.com");
    expect(raw).not.toContain("sk-live-abcdefghijklmnop1234");
    expect(String(local?.attributes.query)).toBe("Email [email] my key [key]");
    expect(raw).toContain("[email]");
  });

  it("off: no content anywhere, usage and timings still exported", async () => {
    const { local, spans, raw } = await answerWith("off", "Secret plans of ACME for 2027");
    expect(raw).not.toContain("Secret plans");
    expect(local?.attributes.query).toBeUndefined();
    expect(local?.attributes.promptCapture).toBe("off");
    const chat = spans.find((span) => span.name.startsWith("chat "));
    expect(attribute(chat, "gen_ai.usage.input_tokens")).toEqual(expect.any(Number));
    expect(attribute(chat, "gen_ai.input.messages")).toBeUndefined();
    expect(chat?.events ?? []).toEqual([]);
  });
});
