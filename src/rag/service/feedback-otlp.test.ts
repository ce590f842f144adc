/** The service as `serve` builds it, with --otlp-endpoint: a feedback goes on to the collector as an event in the answer's trace. */
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createFingerprint } from "../../preprocessing/index.js";
import { fakeEmbedder, fakeLanguageModel, fakeStore, sampleChunks } from "../testing/fakes.js";
import { runRagService } from "./run.js";
import { defaultRagServiceSettings } from "./settings.js";

type OtlpSpan = {
  name: string;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  events?: { name: string; attributes: { key: string; value: { stringValue?: string } }[] }[];
};

describe("feedback over OTLP", () => {
  let collector: Server;
  let endpoint: string;
  let directory: string;
  const bodies: string[] = [];

  beforeAll(async () => {
    directory = await mkdtemp(join(tmpdir(), "feedback-otlp-"));
    collector = createServer((request: IncomingMessage, response) => {
      let body = "";
      request.on("data", (chunk: Buffer) => {
        body += chunk.toString();
      });
      request.on("end", () => {
        bodies.push(body);
        response.writeHead(200, { "content-type": "application/json" }).end("{}");
      });
    });
    await new Promise<void>((resolve) => collector.listen(0, "127.0.0.1", resolve));
    endpoint = `http://127.0.0.1:${(collector.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    collector.close();
    await rm(directory, { recursive: true, force: true });
  });

  it("exports the rating as a `feedback` span and event under the answer's root span", async () => {
    const embedder = fakeEmbedder();
    const now = new Date().toISOString();
    const store = fakeStore(sampleChunks(), embedder, {
      fingerprint: createFingerprint(embedder),
      createdAt: now,
      updatedAt: now,
    });
    const service = await runRagService({
      settings: defaultRagServiceSettings({
        port: 0,
        host: "127.0.0.1",
        logLevel: "silent",
        otlpEndpoint: endpoint,
        feedbackFile: join(directory, "feedback.jsonl"),
      }),
      store,
      embedder,
      llm: fakeLanguageModel(),
      disposeResources: async () => {},
    });
    const answer = await fetch(`${service.url}/rag`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ query: "What is RAG?", expandQueries: 1 }),
    });
    const traceId = answer.headers.get("x-trace-id") ?? "";
    await answer.json();
    const posted = await fetch(`${service.url}/feedback`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ traceId, rating: "down", comment: "wrong author" }),
    });
    expect(posted.status).toBe(201);
    await service.close();
    const spans = bodies.flatMap((body) =>
      (JSON.parse(body) as { resourceSpans: { scopeSpans: { spans: OtlpSpan[] }[] }[] }).resourceSpans.flatMap(
        (resource) => resource.scopeSpans.flatMap((scope) => scope.spans),
      ),
    );
    const root = spans.find((span) => span.name === "rag");
    const feedback = spans.find((span) => span.name === "feedback");
    expect(feedback?.traceId).toBe(traceId);
    expect(feedback?.parentSpanId).toBe(root?.spanId);
    const event = feedback?.events?.[0];
    expect(event?.name).toBe("feedback");
    const attributes = Object.fromEntries(
      (event?.attributes ?? []).map((entry) => [entry.key, entry.value.stringValue]),
    );
    expect(attributes).toMatchObject({ "feedback.rating": "down", "feedback.comment": "wrong author" });
  });
});
