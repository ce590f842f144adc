import { request as httpRequest } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { AppError } from "../../errors/index.js";
import { buildHarness, type Harness, parseSse } from "../testing/app-harness.js";
import { MAXIME, PAUL } from "../testing/fakes.js";
import type { RagResponse } from "../types.js";

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.app.close();
  harness = undefined;
});

async function setup(options: Parameters<typeof buildHarness>[0] = {}): Promise<Harness> {
  harness = await buildHarness(options);
  return harness;
}

const post = (h: Harness, url: string, payload: unknown, headers: Record<string, string> = {}) =>
  h.app.inject({ method: "POST", url, payload: payload as object, headers });

describe("POST /rag", () => {
  it("reads a JSON body sent as curl -d sends it (form-urlencoded content type)", async () => {
    const h = await setup();
    const headers = { "content-type": "application/x-www-form-urlencoded" };
    const ok = await h.app.inject({ method: "POST", url: "/rag", payload: '{"query":"RAG systems","k":1}', headers });
    expect(ok.statusCode).toBe(200);
    expect(ok.json<RagResponse>().sources).toHaveLength(1);
    const bad = await h.app.inject({ method: "POST", url: "/retrieve", payload: "{bad", headers });
    expect(bad.statusCode).toBe(400);
    expect(bad.json<{ error: { code: string } }>().error.code).toBe("bad_request");
  });

  it("answers with sources, usage and timings, and records a trace", async () => {
    const h = await setup();
    const response = await post(h, "/rag", { query: "How do RAG pipelines use vector databases?", k: 2 });
    expect(response.statusCode).toBe(200);
    const body = response.json<RagResponse>();
    expect(body.answer).toBe("Hello from the twin.");
    expect(body.sources).toHaveLength(2);
    for (const source of body.sources) {
      expect(Object.keys(source).sort()).toEqual(
        ["author", "category", "documentId", "id", "link", "score", "text", "title"].sort(),
      );
    }
    expect(body.usage).toEqual({ promptTokens: expect.any(Number), completionTokens: 5 });
    expect(Object.keys(body.timings).sort()).toEqual(
      ["selfQueryMs", "expansionMs", "embeddingMs", "searchMs", "rerankMs", "generationMs", "totalMs"].sort(),
    );
    expect(response.headers["x-request-id"]).toEqual(expect.any(String));
    const prompt = h.llm.requests[0];
    expect(prompt !== undefined && "messages" in prompt ? prompt.messages.at(-1)?.content : "").toContain(
      "How do RAG pipelines use vector databases?",
    );

    const traceId = String(response.headers["x-trace-id"]);
    const trace = await h.app.inject({ method: "GET", url: `/traces/${traceId}` });
    expect(trace.statusCode).toBe(200);
    const spans = trace.json<{ spans: { name: string; attributes: Record<string, unknown> }[] }>().spans;
    expect(spans.map((span) => span.name)).toEqual(
      expect.arrayContaining([
        "self-query",
        "query-expansion",
        "embedding",
        "search",
        "rerank",
        "prompt",
        "generation",
      ]),
    );
    expect(spans.find((span) => span.name === "rerank")?.attributes.ids).toEqual(
      body.sources.map((source) => source.id),
    );
    expect(spans.find((span) => span.name === "generation")?.attributes.completionTokens).toBe(5);
    const list = await h.app.inject({ method: "GET", url: "/traces?limit=1" });
    expect(list.json<{ traces: { id: string }[] }>().traces.map((item) => item.id)).toEqual([traceId]);
  });

  it("filters by the author named in the query, or given as an option", async () => {
    const h = await setup();
    const named = (
      await post(h, "/rag", { query: "My name is Paul Iusztin. Write about LLMs and RAG.", k: 5 })
    ).json<RagResponse>();
    expect(named.sources.length).toBeGreaterThan(0);
    expect(named.sources.every((source) => source.author.id === PAUL.id)).toBe(true);
    const option = (
      await post(h, "/rag", { query: "Write about LLMs and RAG.", author: "maxime labonne", k: 5 })
    ).json<RagResponse>();
    expect(option.sources.length).toBeGreaterThan(0);
    expect(option.sources.every((source) => source.author.id === MAXIME.id)).toBe(true);
    expect(h.store.searches.at(-1)?.filter).toEqual({ authorId: MAXIME.id });
  });

  it("rejects an unknown author without creating anything", async () => {
    const h = await setup();
    const response = await post(h, "/rag", { query: "Write a post", author: "John Doe" });
    expect(response.statusCode).toBe(422);
    expect(response.json().error.code).toBe("validation_error");
    expect(h.llm.requests).toHaveLength(0);
  });

  it("maps LLM failures: refused → 503, slow → 504, never leaking upstream bodies", async () => {
    const h = await setup({ config: { llmTimeoutMs: 100 } });
    h.llm.failWith = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:1 secret"), { code: "ECONNREFUSED" });
    const refused = await post(h, "/rag", { query: "Write about RAG" });
    expect(refused.statusCode).toBe(503);
    expect(refused.json().error).toMatchObject({ code: "upstream_unavailable", requestId: expect.any(String) });
    expect(refused.body).not.toContain("secret");

    h.llm.failWith = undefined;
    h.llm.tokenDelayMs = 1000;
    const slow = await post(h, "/rag", { query: "Write about RAG" });
    expect(slow.statusCode).toBe(504);
    expect(slow.json().error.code).toBe("timeout");
    expect(h.llm.aborted).toBe(1);

    h.llm.tokenDelayMs = 0;
    h.llm.failWith = new AppError("overloaded", "Model is overloaded");
    const busy = await post(h, "/rag", { query: "Write about RAG" });
    expect(busy.statusCode).toBe(429);
    expect(busy.json().error.code).toBe("overloaded");
  });
});

describe("POST /rag streaming", () => {
  it("sends sources, then tokens, then done, as SSE (stream: true or Accept)", async () => {
    const h = await setup();
    for (const request of [
      { payload: { query: "Write about RAG", stream: true }, headers: {} },
      { payload: { query: "Write about RAG" }, headers: { accept: "text/event-stream" } },
    ]) {
      const response = await post(h, "/rag", request.payload, request.headers);
      expect(response.statusCode).toBe(200);
      expect(response.headers["content-type"]).toContain("text/event-stream");
      expect(response.body.endsWith("\n\n")).toBe(true);
      const events = parseSse(response.body);
      expect(events.map((event) => event.event)).toEqual([
        "sources",
        "token",
        "token",
        "token",
        "token",
        "token",
        "done",
      ]);
      expect((events[0]?.data as { sources: unknown[] } | undefined)?.sources.length).toBeGreaterThan(0);
      expect(
        events
          .slice(1, 6)
          .map((event) => (event.data as { text: string }).text)
          .join(""),
      ).toBe("Hello from the twin.");
      const done = events[6]?.data as RagResponse;
      expect(done.usage.completionTokens).toBe(5);
      expect(done.timings.totalMs).toBeGreaterThan(0);
    }
  });

  it("turns a failure mid-stream into an error event and ends cleanly", async () => {
    const h = await setup();
    h.llm.failAfterTokens = 2;
    const response = await post(h, "/rag", { query: "Write about RAG", stream: true }, { "x-request-id": "req-42" });
    expect(response.statusCode).toBe(200);
    const events = parseSse(response.body);
    expect(events.map((event) => event.event)).toEqual(["sources", "token", "token", "error"]);
    expect(events[3]?.data).toEqual({ code: "upstream_unavailable", message: expect.any(String), requestId: "req-42" });
    expect(response.body).not.toContain("secret body");
    const metrics = await h.app.inject({ method: "GET", url: "/metrics" });
    expect(metrics.body).toContain('llm_twin_rag_errors_total{code="upstream_unavailable"} 1');
  });

  it("answers a failure before the first event with a plain HTTP error", async () => {
    const h = await setup();
    const response = await post(h, "/rag", { query: "Write", author: "Nobody", stream: true });
    expect(response.statusCode).toBe(422);
    expect(response.json().error.code).toBe("validation_error");
  });
});

describe("bad input", () => {
  it.each([
    [{}, 422, "validation_error"],
    [{ query: "" }, 422, "validation_error"],
    [{ query: "x", k: 0 }, 422, "validation_error"],
    [{ query: "x", k: 1000 }, 422, "validation_error"],
    [{ query: "x", expandQueries: 99 }, 422, "validation_error"],
    [{ query: "x", selfQuery: "maybe" }, 422, "validation_error"],
    [{ query: "x", categories: ["videos"] }, 422, "validation_error"],
    [{ query: "x", temperature: -1 }, 422, "validation_error"],
    [{ query: "x", unknownField: 1 }, 422, "validation_error"],
    [{ query: 42 }, 422, "validation_error"],
    [{ query: "x".repeat(200) }, 422, "input_too_long"],
  ])("%j → %i %s", async (payload, status, code) => {
    const h = await setup({ config: { maxQueryChars: 100 } });
    const response = await post(h, "/rag", payload, { "x-request-id": "bad-1" });
    expect(response.statusCode).toBe(status);
    expect(response.json().error).toMatchObject({ code, message: expect.any(String), requestId: "bad-1" });
  });

  it("rejects malformed JSON with 400 and oversized bodies with 413", async () => {
    const h = await setup({ http: { bodyLimitBytes: 1024 } });
    const malformed = await h.app.inject({
      method: "POST",
      url: "/rag",
      payload: '{"query": ',
      headers: { "content-type": "application/json" },
    });
    expect(malformed.statusCode).toBe(400);
    expect(malformed.json().error.code).toBe("bad_request");
    const huge = await post(h, "/rag", { query: "x".repeat(5000) });
    expect(huge.statusCode).toBe(413);
    expect(huge.json().error.code).toBe("payload_too_large");
    const notFound = await h.app.inject({ method: "GET", url: "/nope" });
    expect(notFound.statusCode).toBe(404);
    expect(notFound.json().error.code).toBe("not_found");
  });
});

describe("error messages a user can act on", () => {
  it("bad JSON, an empty body, a wrong field and an unknown field each say what to send", async () => {
    const h = await setup();
    const form = { "content-type": "application/x-www-form-urlencoded" };
    const badJson = await h.app.inject({ method: "POST", url: "/rag", payload: '{"query": ', headers: form });
    expect(badJson.json().error).toMatchObject({
      code: "bad_request",
      message: expect.stringMatching(/not valid JSON/),
    });
    // Fastify's own text claimed an application/json content type the client never sent.
    expect(badJson.json().error.message).not.toContain("content-type is set to");
    const empty = await h.app.inject({ method: "POST", url: "/rag" });
    expect(empty.json().error.message).toMatch(/the request body is empty: send a JSON object/);
    const wrong = await post(h, "/rag", { query: "" });
    expect(wrong.statusCode).toBe(422);
    expect(wrong.json().error.message).toMatch(/^invalid request: `query`: /);
    const unknown = await post(h, "/rag", { query: "x", foo: 1 });
    expect(unknown.statusCode).toBe(422);
    expect(unknown.json().error.message).toMatch(/unknown field\(s\) `foo`/);
  });
});

describe("POST /retrieve", () => {
  it("returns sources and timings without generating", async () => {
    const h = await setup();
    const response = await post(h, "/retrieve", { query: "model merging with Maxime Labonne", k: 3 });
    expect(response.statusCode).toBe(200);
    const body = response.json<{ sources: { author: { id: string } }[]; timings: { generationMs: number } }>();
    expect(body.sources.length).toBeGreaterThan(0);
    expect(body.sources.every((source) => source.author.id === MAXIME.id)).toBe(true);
    expect(body.timings.generationMs).toBe(0);
    expect(h.llm.requests).toHaveLength(0);
  });
});

describe("protection", () => {
  it("requires a bearer key on every route but health, readiness and the page", async () => {
    const h = await setup({ http: { apiKeys: ["k1", "k2"] } });
    expect((await post(h, "/rag", { query: "x" })).statusCode).toBe(401);
    const wrong = await post(h, "/rag", { query: "x" }, { authorization: "Bearer nope" });
    expect(wrong.statusCode).toBe(401);
    expect(wrong.json().error.code).toBe("unauthorized");
    expect((await post(h, "/rag", { query: "Write about RAG" }, { authorization: "Bearer k2" })).statusCode).toBe(200);
    for (const url of ["/traces", "/metrics", "/docs/json"]) {
      expect((await h.app.inject({ method: "GET", url })).statusCode).toBe(401);
    }
    for (const url of ["/health", "/ready", "/"]) {
      expect((await h.app.inject({ method: "GET", url })).statusCode).toBe(200);
    }
  });

  it("rate-limits per key, with 429 and retry-after", async () => {
    const h = await setup({ http: { apiKeys: ["a", "b"], rateLimit: { max: 2, timeWindowMs: 60_000 } } });
    const as = (key: string) => post(h, "/retrieve", { query: "Write about RAG" }, { authorization: `Bearer ${key}` });
    expect((await as("a")).statusCode).toBe(200);
    expect((await as("a")).statusCode).toBe(200);
    const limited = await as("a");
    expect(limited.statusCode).toBe(429);
    expect(limited.json().error.code).toBe("rate_limited");
    expect(limited.headers["retry-after"]).toBeDefined();
    expect((await as("b")).statusCode).toBe(200);
    expect((await h.app.inject({ method: "GET", url: "/health" })).statusCode).toBe(200);
  });
});

describe("health, readiness, metrics, docs", () => {
  it("reports readiness with reasons", async () => {
    const h = await setup();
    expect((await h.app.inject({ method: "GET", url: "/ready" })).statusCode).toBe(200);
    h.llm.healthy = false;
    const down = await h.app.inject({ method: "GET", url: "/ready" });
    expect(down.statusCode).toBe(503);
    expect(down.json().reasons).toEqual([expect.stringContaining("llm")]);
    h.llm.healthy = true;
    h.store.failWith = new Error("disk gone");
    const storeDown = await h.app.inject({ method: "GET", url: "/ready" });
    expect(storeDown.statusCode).toBe(503);
    expect(storeDown.json().checks.store.ok).toBe(false);
    expect((await h.app.inject({ method: "GET", url: "/health" })).json()).toEqual({ status: "ok" });
  });

  it("exposes metrics per route, status and step", async () => {
    const h = await setup();
    await post(h, "/rag", { query: "Write about RAG" });
    await post(h, "/rag", {});
    const metrics = (await h.app.inject({ method: "GET", url: "/metrics" })).body;
    expect(metrics).toMatch(/llm_twin_rag_requests_total\{route="\/rag",method="POST",status="200"\} 1/);
    expect(metrics).toMatch(/llm_twin_rag_requests_total\{route="\/rag",method="POST",status="422"\} 1/);
    expect(metrics).toMatch(/llm_twin_rag_step_duration_seconds_count\{step="generation"\} 1/);
    expect(metrics).toContain('llm_twin_rag_errors_total{code="validation_error"} 1');
  });

  it("publishes an OpenAPI document with request and response schemas", async () => {
    const h = await setup();
    const document = (await h.app.inject({ method: "GET", url: "/docs/json" })).json();
    const rag = document.paths["/rag"].post;
    expect(rag.requestBody.content["application/json"].schema.required).toEqual(["query"]);
    expect(Object.keys(rag.responses)).toEqual(expect.arrayContaining(["200", "422", "503", "504"]));
    expect(document.paths["/retrieve"]).toBeDefined();
    expect((await h.app.inject({ method: "GET", url: "/docs" })).statusCode).toBeLessThan(400);
  });
});

describe("cancellation", () => {
  async function listen(h: Harness): Promise<number> {
    await h.app.listen({ port: 0, host: "127.0.0.1" });
    return (h.app.server.address() as AddressInfo).port;
  }

  function openAndDropAfter(port: number, payload: unknown, dropWhen: (received: string) => boolean): Promise<void> {
    return new Promise((resolve, reject) => {
      const request = httpRequest(
        { host: "127.0.0.1", port, method: "POST", path: "/rag", headers: { "content-type": "application/json" } },
        (response) => {
          let received = "";
          response.on("data", (chunk: Buffer) => {
            received += chunk.toString();
            if (dropWhen(received)) {
              request.destroy();
              resolve();
            }
          });
        },
      );
      request.on("error", () => resolve());
      request.end(JSON.stringify(payload));
      setTimeout(() => reject(new Error("the stream never reached the drop point")), 5000);
    });
  }

  it("a client that disconnects mid-stream cancels the LLM generation", async () => {
    const h = await setup();
    h.llm.tokenDelayMs = 50;
    h.llm.streamTokens = Array.from({ length: 200 }, (_value, index) => ` t${index}`);
    const port = await listen(h);
    await openAndDropAfter(port, { query: "Write about RAG", stream: true }, (received) =>
      received.includes("event: token"),
    );
    await expect.poll(() => h.llm.aborted, { timeout: 3000 }).toBe(1);
    await expect.poll(() => h.traceLog.list(1)[0]?.error?.code, { timeout: 3000 }).toBe("aborted");
  });

  it("a client that disconnects from a non-streaming request cancels the generation too", async () => {
    const h = await setup();
    h.llm.tokenDelayMs = 50;
    h.llm.streamTokens = Array.from({ length: 200 }, (_value, index) => ` t${index}`);
    const port = await listen(h);
    const request = httpRequest({
      host: "127.0.0.1",
      port,
      method: "POST",
      path: "/rag",
      headers: { "content-type": "application/json" },
    });
    request.on("error", () => {});
    request.end(JSON.stringify({ query: "Write about RAG" }));
    await expect.poll(() => h.llm.signals.length, { timeout: 3000 }).toBe(1);
    request.destroy();
    await expect.poll(() => h.llm.aborted, { timeout: 3000 }).toBe(1);
  });
});
