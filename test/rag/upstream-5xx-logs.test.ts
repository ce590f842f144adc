/**
 * An LLM service answering 500 or 503 is an expected operational failure for the RAG service: the
 * client gets the usual error body, and the log gets one structured line (code, status, upstream
 * status and URL, request id) without a stack. A real bug (not an AppError) keeps its stack.
 */
import { Writable } from "node:stream";
import Fastify, { type FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTgiLanguageModel } from "../../src/llm/clients/index.js";
import { registerErrorHandling } from "../../src/observability/http/index.js";
import { buildHarness } from "../../src/rag/testing/app-harness.js";
import { type FakeServer, startFakeServer } from "../llm-clients/fake-server.js";

type LogLine = Record<string, unknown>;

function capturedLogger(lines: LogLine[]) {
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split("\n")) if (line.trim() !== "") lines.push(JSON.parse(line) as LogLine);
      done();
    },
  });
  return { level: "info", stream };
}

let upstream: FakeServer;
let status = 500;
beforeAll(async () => {
  upstream = await startFakeServer((_request, response) => {
    response.writeHead(status, { "content-type": "application/json" });
    response.end(JSON.stringify({ error: `the model broke (${status})`, error_type: "generation" }));
  });
});
afterAll(async () => {
  await upstream?.close();
});

describe("RAG service logs of upstream failures", () => {
  let app: FastifyInstance;
  const lines: LogLine[] = [];
  beforeAll(async () => {
    const llm = createTgiLanguageModel({ url: upstream.url, retries: 0 });
    ({ app } = await buildHarness({ languageModel: llm, logger: capturedLogger(lines) }));
  });
  afterAll(async () => {
    await app?.close();
  });

  it.each([
    [500, 502, "upstream_error"],
    [503, 503, "upstream_unavailable"],
  ])(
    "an LLM answering %i: the client gets %i %s, the log one line without a stack",
    async (upstreamStatus, expectedStatus, code) => {
      status = upstreamStatus;
      lines.length = 0;
      const response = await app.inject({ method: "POST", url: "/rag", payload: { query: "what is chunking?" } });
      expect(response.statusCode).toBe(expectedStatus);
      const body = response.json() as { error: { code: string; requestId: string } };
      expect(body.error.code).toBe(code);
      const failures = lines.filter((line) => line.level === 50);
      expect(failures).toHaveLength(1);
      expect(failures[0]).toMatchObject({
        msg: "request failed",
        code,
        status: expectedStatus,
        upstreamStatus,
        upstreamUrl: `${upstream.url}/v1/chat/completions`,
        requestId: body.error.requestId,
      });
      expect(failures[0]).not.toHaveProperty("err");
      expect(JSON.stringify(failures[0])).not.toMatch(/\n\s+at /);
      // The upstream URL stays in the logs: the client sees neither it nor the upstream body.
      expect(response.body).not.toContain(upstream.url);
      expect(response.body).not.toContain("the model broke");
    },
  );

  it("a failure inside a stream (after the headers) is logged the same way", async () => {
    status = 500;
    lines.length = 0;
    const response = await app.inject({
      method: "POST",
      url: "/rag",
      payload: { query: "what is chunking?", stream: true },
    });
    expect(response.statusCode).toBe(200);
    expect(response.body).toContain("event: error");
    const failures = lines.filter((line) => line.level === 50);
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({
      msg: "stream failed",
      code: "upstream_error",
      status: 502,
      upstreamStatus: 500,
      upstreamUrl: `${upstream.url}/v1/chat/completions`,
      requestId: response.headers["x-request-id"],
    });
    expect(failures[0]).not.toHaveProperty("err");
  });
});

describe("the shared edge's log of a 5xx that is not an AppError", () => {
  it("keeps the stack: it is a bug", async () => {
    const lines: LogLine[] = [];
    const app = Fastify({ logger: capturedLogger(lines) });
    registerErrorHandling(app);
    app.get("/bug", async () => {
      throw new TypeError("cannot read properties of undefined");
    });
    try {
      const response = await app.inject({ method: "GET", url: "/bug" });
      expect(response.statusCode).toBe(500);
      expect(response.json()).toMatchObject({ error: { code: "internal_error", message: "internal error" } });
      const failure = lines.find((line) => line.level === 50);
      expect(failure).toMatchObject({ msg: "request failed", code: "internal_error", status: 500 });
      expect(failure?.err).toMatchObject({ stack: expect.stringContaining("TypeError: cannot read properties") });
    } finally {
      await app.close();
    }
  });
});
