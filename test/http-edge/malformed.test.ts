/**
 * Hundreds of malformed requests over real sockets to both services: every 4xx and 5xx comes in
 * the shape its route promises (the project's `{error: {code, message, requestId}}`; TGI's and
 * OpenAI's on the LLM service's TGI, SageMaker and /v1 routes), with an `x-request-id`, never a
 * Fastify or Node default body, never a stack trace.
 */
import type { AddressInfo } from "node:net";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildHarness } from "../../src/rag/testing/app-harness.js";
import { startTestService, type TestService } from "../llm-server/helpers.js";
import { type MalformedCase, malformedCases, type Shape } from "./malformed-requests.js";
import { type RawResponse, rawRequest } from "./raw-http.js";

const CASES_PER_SERVICE = 400;
const BODY_LIMIT = 4096;

function checkShape(testCase: MalformedCase, response: RawResponse): string | undefined {
  if (response.status === 0) return "no HTTP response";
  if (response.status < 400) return undefined;
  if (/FST_|Client Error|statusCode|\bat \S+ \(/.test(response.body)) return `default body: ${response.body}`;
  let body: unknown;
  try {
    body = JSON.parse(response.body);
  } catch {
    return `not JSON: ${response.body.slice(0, 120)}`;
  }
  if (response.headers["x-request-id"] === undefined) return "no x-request-id";
  const shape: Shape = testCase.shape;
  const error = (body as { error?: unknown }).error;
  if (shape === "project") {
    const inner = error as { code?: unknown; message?: unknown; requestId?: unknown } | undefined;
    if (typeof inner?.code !== "string" || typeof inner.message !== "string")
      return `not the project shape: ${response.body}`;
    if (inner.requestId !== response.headers["x-request-id"]) return "requestId differs from x-request-id";
  } else if (shape === "tgi") {
    const errorType = (body as { error_type?: unknown }).error_type;
    if (typeof error !== "string" || typeof errorType !== "string") return `not TGI's shape: ${response.body}`;
  } else {
    const inner = error as { message?: unknown; type?: unknown } | undefined;
    if (typeof inner?.message !== "string" || typeof inner.type !== "string")
      return `not OpenAI's shape: ${response.body}`;
  }
  return undefined;
}

async function sendAll(port: number, cases: MalformedCase[]): Promise<string[]> {
  const failures: string[] = [];
  const statuses = new Map<number, number>();
  // A few at a time, as a scanner would.
  for (let index = 0; index < cases.length; index += 8) {
    const batch = cases.slice(index, index + 8);
    const responses = await Promise.all(batch.map((testCase) => rawRequest(port, testCase.bytes)));
    responses.forEach((response, offset) => {
      const testCase = batch[offset] as MalformedCase;
      statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
      const problem = checkShape(testCase, response);
      if (problem !== undefined) failures.push(`${testCase.name}: ${response.status} ${problem}`);
      if (!response.closedByServer) failures.push(`${testCase.name}: the server kept the socket open`);
    });
  }
  return failures;
}

const portOf = (app: FastifyInstance) => (app.server.address() as AddressInfo).port;

describe("malformed requests to the RAG service", () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = (await buildHarness({ http: { bodyLimitBytes: BODY_LIMIT } })).app;
    await app.listen({ host: "127.0.0.1", port: 0 });
  });
  afterAll(async () => app?.close());

  it(`answers ${CASES_PER_SERVICE} of them in the one error shape`, async () => {
    const cases = malformedCases(
      {
        jsonRoutes: [
          { path: "/rag", shape: "project" },
          { path: "/retrieve", shape: "project" },
        ],
        getRoutes: [
          { path: "/traces", shape: "project" },
          { path: "/ready", shape: "project" },
          { path: "/authors", shape: "project" },
        ],
        paramRoute: "/traces/",
        bodyLimitBytes: BODY_LIMIT,
      },
      CASES_PER_SERVICE,
    );
    expect(await sendAll(portOf(app), cases)).toEqual([]);
  });

  it("the cases the issue names: /%ff, a raw byte, an over-long parameter, a wrong content type", async () => {
    const port = portOf(app);
    const badUrl = await rawRequest(port, "GET /%ff HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    expect(badUrl.status).toBe(400);
    expect(JSON.parse(badUrl.body).error.code).toBe("bad_request");
    const rawByte = await rawRequest(
      port,
      Buffer.concat([Buffer.from("GET /"), Buffer.from([0xe9]), Buffer.from(" HTTP/1.1\r\nHost: x\r\n\r\n")]),
    );
    expect(rawByte.status).toBeGreaterThanOrEqual(400);
    expect(JSON.parse(rawByte.body).error).toMatchObject({ code: expect.any(String), requestId: expect.any(String) });
    const longParam = await rawRequest(
      port,
      `GET /traces/${"a".repeat(500)} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
    );
    expect(longParam.status).toBe(414);
    expect(JSON.parse(longParam.body).error.code).toBe("uri_too_long");
    const body = '{"query":"hi"}';
    const wrongType = await rawRequest(
      port,
      `POST /rag HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/xml\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
    );
    expect(wrongType.status).toBe(415);
    expect(JSON.parse(wrongType.body).error.code).toBe("unsupported_media_type");
  });
});

describe("malformed requests to the LLM service", () => {
  let service: TestService;
  beforeAll(async () => {
    service = await startTestService({}, { bodyLimitBytes: BODY_LIMIT });
    await service.app.listen({ host: "127.0.0.1", port: 0 });
  });
  afterAll(async () => service?.close());

  it(`answers ${CASES_PER_SERVICE} of them in the shape of each route`, async () => {
    const cases = malformedCases(
      {
        jsonRoutes: [
          { path: "/generate", shape: "tgi" },
          { path: "/generate_stream", shape: "tgi" },
          { path: "/invocations", shape: "tgi" },
          { path: "/v1/completions", shape: "openai" },
          { path: "/v1/chat/completions", shape: "openai" },
        ],
        getRoutes: [
          { path: "/info", shape: "tgi" },
          { path: "/health", shape: "tgi" },
          { path: "/v1/models", shape: "openai" },
          { path: "/metrics", shape: "project" },
        ],
        bodyLimitBytes: BODY_LIMIT,
      },
      CASES_PER_SERVICE,
      34,
    );
    expect(await sendAll(portOf(service.app), cases)).toEqual([]);
  });

  it("an unknown route and a URL that does not decode are in the project's shape", async () => {
    const port = portOf(service.app);
    for (const path of ["/nope?token=x", "/%ff"]) {
      const response = await rawRequest(port, `GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
      expect(response.status).toBeGreaterThanOrEqual(400);
      const body = JSON.parse(response.body);
      expect(body.error).toMatchObject({ code: expect.any(String), requestId: response.headers["x-request-id"] });
      expect(response.body).not.toContain("token=x");
    }
  });
});
