/**
 * The shared edge on real sockets, for both services: a client slower than the server timeouts is
 * cut with 408 in the one shape; failed authentications are throttled per client address; logs
 * never carry a query string or a secret, at any level.
 */
import type { AddressInfo } from "node:net";
import { Writable } from "node:stream";
import type { FastifyInstance } from "fastify";
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { buildLlmServerApp } from "../../src/llm-server/app.js";
import { createLlmServerMetrics } from "../../src/llm-server/metrics.js";
import { createModelHolder } from "../../src/llm-server/model-holder.js";
import { edgeLoggerOptions } from "../../src/observability/http/index.js";
import { buildHarness } from "../../src/rag/testing/app-harness.js";
import { rawRequest } from "./raw-http.js";

const SHORT_TIMEOUTS = { headersTimeoutMs: 300, receiveTimeoutMs: 400, keepAliveTimeoutMs: 300 };

type Built = { app: FastifyInstance; name: string };
let open: FastifyInstance[] = [];
afterEach(async () => {
  await Promise.all(open.map((app) => app.close()));
  open = [];
});

async function listen(app: FastifyInstance): Promise<number> {
  open.push(app);
  await app.listen({ host: "127.0.0.1", port: 0 });
  return (app.server.address() as AddressInfo).port;
}

function llmApp(options: Partial<Parameters<typeof buildLlmServerApp>[0]> = {}): FastifyInstance {
  const holder = createModelHolder();
  return buildLlmServerApp({ holder, metrics: createLlmServerMetrics(holder), bodyLimitBytes: 4096, ...options });
}

async function bothServices(http: Record<string, unknown>, logger?: pino.Logger): Promise<Built[]> {
  const rag = await buildHarness({ http: http as never });
  const llm = llmApp({
    ...(http.timeouts === undefined ? {} : { timeouts: http.timeouts as never }),
    ...(http.apiKeys === undefined ? {} : { apiKeys: http.apiKeys as never }),
    ...(http.authFailureLimit === undefined ? {} : { authFailureLimit: http.authFailureLimit as never }),
    ...(logger === undefined ? {} : { logger }),
  });
  return [
    { app: rag.app, name: "RAG" },
    { app: llm, name: "LLM" },
  ];
}

describe("server timeouts", () => {
  it("a body shorter than its Content-Length is cut with 408 request_timeout, on both services", async () => {
    for (const { app, name } of await bothServices({ timeouts: SHORT_TIMEOUTS })) {
      const port = await listen(app);
      const path = name === "RAG" ? "/rag" : "/generate";
      const response = await rawRequest(
        port,
        `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"query":`,
      );
      expect(response.closedByServer, name).toBe(true);
      expect(response.status, name).toBe(408);
      expect(JSON.parse(response.body).error).toMatchObject({ code: "request_timeout", requestId: expect.any(String) });
    }
  });

  it("a client that never finishes its headers is cut", async () => {
    for (const { app, name } of await bothServices({ timeouts: SHORT_TIMEOUTS })) {
      const port = await listen(app);
      const response = await rawRequest(port, "GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: ");
      expect(response.closedByServer, name).toBe(true);
      expect(response.status, name).toBe(408);
    }
  });

  it("an idle keep-alive connection is closed after the keep-alive timeout", async () => {
    for (const { app, name } of await bothServices({ timeouts: SHORT_TIMEOUTS })) {
      const port = await listen(app);
      const response = await rawRequest(port, "GET /health HTTP/1.1\r\nHost: x\r\n\r\n");
      expect(response.closedByServer, name).toBe(true);
      expect(response.status, name).toBeGreaterThan(0);
    }
  });
});

describe("failed authentications", () => {
  it("are limited per client address: 429 with Retry-After, even for a valid key, on both services", async () => {
    const http = { apiKeys: ["right-key"], authFailureLimit: { max: 5, windowMs: 60_000 } };
    for (const { app, name } of await bothServices(http)) {
      const path = name === "RAG" ? "/traces" : "/info";
      const statuses: number[] = [];
      for (let attempt = 0; attempt < 30; attempt += 1) {
        const response = await app.inject({
          method: "GET",
          url: path,
          headers: { authorization: `Bearer guess-${attempt}` },
        });
        statuses.push(response.statusCode);
      }
      expect(statuses.slice(0, 5), name).toEqual([401, 401, 401, 401, 401]);
      expect(new Set(statuses.slice(5)), name).toEqual(new Set([429]));
      const blocked = await app.inject({ method: "GET", url: path, headers: { authorization: "Bearer right-key" } });
      expect(blocked.statusCode, name).toBe(429);
      expect(Number(blocked.headers["retry-after"]), name).toBeGreaterThan(0);
      const other = await app.inject({
        method: "GET",
        url: path,
        remoteAddress: "10.0.0.9",
        headers: { authorization: "Bearer right-key" },
      });
      expect(other.statusCode, name).not.toBe(401);
      expect(other.statusCode, name).not.toBe(429);
      const health = await app.inject({ method: "GET", url: "/health" });
      expect(health.statusCode, name).not.toBe(401);
    }
  });

  it("serve-llm's keys: 401 in TGI's shape on TGI routes and OpenAI's on /v1", async () => {
    const app = llmApp({ apiKeys: ["k1", "k2"] });
    open.push(app);
    const tgi = await app.inject({ method: "POST", url: "/generate", payload: { inputs: "x" } });
    expect(tgi.statusCode).toBe(401);
    expect(tgi.json()).toEqual({ error: expect.any(String), error_type: "unauthorized" });
    const openAi = await app.inject({ method: "GET", url: "/v1/models", headers: { authorization: "Bearer nope" } });
    expect(openAi.statusCode).toBe(401);
    expect(openAi.json().error).toMatchObject({ type: "authentication_error", code: "unauthorized" });
    const metrics = await app.inject({ method: "GET", url: "/metrics" });
    expect(metrics.statusCode).toBe(401);
    const allowed = await app.inject({ method: "GET", url: "/metrics", headers: { authorization: "Bearer k2" } });
    expect(allowed.statusCode).toBe(200);
    for (const url of ["/health", "/ping"]) {
      // Public (503 while no model is loaded), never 401.
      expect((await app.inject({ method: "GET", url })).statusCode).toBe(503);
    }
  });
});

describe("logs", () => {
  it("never carry query strings, keys or secret headers, even at trace level", async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _encoding, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const logger = pino(edgeLoggerOptions("trace"), sink);
    const rag = await buildHarness({
      http: { apiKeys: ["sekret-key"] },
      logger: { ...edgeLoggerOptions("trace"), stream: sink } as never,
    });
    open.push(rag.app);
    const llm = llmApp({ apiKeys: ["sekret-key"], logger });
    open.push(llm);
    for (const [app, path] of [
      [llm, "/info"],
      [rag.app, "/traces"],
    ] as const) {
      await app.inject({
        method: "GET",
        url: `${path}?api_key=sekret-query&token=sekret-token`,
        headers: { authorization: "Bearer sekret-bearer", cookie: "session=sekret-cookie", "x-api-key": "sekret-x" },
      });
      await app.inject({ method: "GET", url: "/nope?password=sekret-pass" });
      await app.inject({ method: "GET", url: "/%ff?token=sekret-badurl" });
    }
    logger.info({ apiKeys: ["sekret-config"], nested: { token: "sekret-nested" } }, "configuration");
    const text = lines.join("");
    expect(text).toContain("incoming request");
    expect(text).toContain('"url":"/info"');
    expect(text).toContain('"url":"/traces"');
    expect(text).not.toMatch(/sekret/);
  });
});
