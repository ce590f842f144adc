import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { AppError } from "../../errors/index.js";
import { createTracer, openTraceLog } from "./index.js";
import { createOtlpSink } from "./otlp-sink.js";

const directories: string[] = [];
afterEach(async () => {
  await Promise.all(directories.splice(0).map((directory) => rm(directory, { recursive: true, force: true })));
});

async function tempDir(): Promise<string> {
  const directory = await mkdtemp(join(tmpdir(), "llm-twin-traces-"));
  directories.push(directory);
  return directory;
}

describe("tracer and trace log", () => {
  it("records a trace with a span per step, attributes and errors", async () => {
    const log = await openTraceLog({ capacity: 10 });
    const tracer = createTracer([log]);
    const trace = tracer.startTrace("rag", { query: "q" });
    await trace.span("search", async (span) => span.setAttributes({ hits: 3 }), { mode: "hybrid" });
    await expect(
      trace.span("generation", async () => {
        throw new AppError("timeout", "too slow");
      }),
    ).rejects.toThrow("too slow");
    const record = trace.end(new AppError("timeout", "too slow"));
    expect(record.id).toMatch(/^[0-9a-f]{32}$/);
    expect(record.spans.map((span) => [span.name, span.status])).toEqual([
      ["search", "ok"],
      ["generation", "error"],
    ]);
    expect(record.spans[0]?.attributes).toEqual({ mode: "hybrid", hits: 3 });
    expect(record.error).toEqual({ code: "timeout", message: "too slow" });
    expect(trace.end()).toBe(record);
    expect(log.get(record.id)).toBe(record);
  });

  it("keeps only the newest traces (ring buffer), newest first", async () => {
    const log = await openTraceLog({ capacity: 3 });
    const tracer = createTracer([log]);
    const ids = Array.from({ length: 5 }, (_value, index) => tracer.startTrace(`t${index}`).end().id);
    expect(log.size).toBe(3);
    expect(log.list().map((trace) => trace.id)).toEqual([ids[4], ids[3], ids[2]]);
    expect(log.list(1).map((trace) => trace.id)).toEqual([ids[4]]);
    expect(log.get(ids[0] as string)).toBeUndefined();
  });

  it("appends to a JSON Lines file, rotates it, and reloads it on start", async () => {
    const file = join(await tempDir(), "traces.jsonl");
    const log = await openTraceLog({ capacity: 2, file, maxFileBytes: 1500 });
    const tracer = createTracer([log]);
    const ids: string[] = [];
    for (let index = 0; index < 6; index += 1)
      ids.push(tracer.startTrace("rag", { padding: "x".repeat(300) }).end().id);
    await log.flush();
    const lines = (await readFile(file, "utf8")).trim().split("\n");
    expect(lines.length).toBeGreaterThan(0);
    expect((await readFile(`${file}.1`, "utf8")).length).toBeGreaterThan(0);
    await writeFile(file, `${lines.join("\n")}\n{"torn`, "utf8");
    const reopened = await openTraceLog({ capacity: 2, file });
    expect(reopened.list().map((trace) => trace.id)).toEqual([ids[5], ids[4]]);
  });
});

describe("OTLP export", () => {
  it("sends each trace to the collector as a root span with a child per step, keeping our ids", async () => {
    const received: { url: string | undefined; body: string }[] = [];
    const collector = createServer((request: IncomingMessage, response) => {
      let body = "";
      request.on("data", (chunk: Buffer) => {
        body += chunk.toString();
      });
      request.on("end", () => {
        received.push({ url: request.url, body });
        response.writeHead(200, { "content-type": "application/json" }).end("{}");
      });
    });
    await new Promise<void>((resolve) => collector.listen(0, "127.0.0.1", resolve));
    const port = (collector.address() as AddressInfo).port;
    try {
      const sink = createOtlpSink({ endpoint: `http://127.0.0.1:${port}`, serviceName: "test-rag", exportDelayMs: 50 });
      const tracer = createTracer([sink]);
      const trace = tracer.startTrace("rag", { query: "hello", ids: ["a", "b"] });
      await trace.span("search", async () => {}, { authorId: "x" });
      const record = trace.end();
      await tracer[Symbol.asyncDispose]();
      expect(received).toHaveLength(1);
      expect(received[0]?.url).toBe("/v1/traces");
      const payload = JSON.parse(received[0]?.body ?? "{}") as {
        resourceSpans: { scopeSpans: { spans: { traceId: string; name: string; parentSpanId?: string }[] }[] }[];
      };
      const spans = payload.resourceSpans.flatMap((resource) => resource.scopeSpans.flatMap((scope) => scope.spans));
      expect(spans.map((span) => span.name).sort()).toEqual(["rag", "search"]);
      expect(new Set(spans.map((span) => span.traceId))).toEqual(new Set([record.id]));
      expect(received[0]?.body).toContain("test-rag");
    } finally {
      collector.close();
    }
  });
});
