import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../testing/free-port.js";
import { createHttpTwin } from "./twin.js";

describe("createHttpTwin", () => {
  const received: { auth: string | undefined; body: unknown }[] = [];
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (part) => {
      body += part;
    });
    req.on("end", () => {
      received.push({ auth: req.headers.authorization, body: JSON.parse(body) });
      if (req.url !== "/slow/rag") {
        res.setHeader("x-trace-id", "t1");
        res.end(JSON.stringify({ answer: "hello", sources: [], timings: { totalMs: 3 } }));
      }
    });
  });
  let base = "";
  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => {
    server.closeAllConnections();
    server.close();
  });

  it("posts the question to /rag with the key and returns the answer and trace id", async () => {
    const twin = createHttpTwin({ url: `${base}/`, apiKey: "secret", timeoutMs: 5000 });
    const answer = await twin.answer({ id: "q1", question: "why?", author: "Ada" });
    expect(received.at(-1)).toEqual({ auth: "Bearer secret", body: { query: "why?", author: "Ada" } });
    expect(answer).toMatchObject({ answer: "hello", traceId: "t1", author: "Ada", timings: { totalMs: 3 } });
    expect(answer.error).toBeUndefined();
  });

  it("reports a timeout and an unreachable service as errors, not throws", async () => {
    const slow = await createHttpTwin({ url: `${base}/slow`, timeoutMs: 50 }).answer({ id: "q", question: "x" });
    expect(slow.error).toMatchObject({ code: "timeout", message: "the RAG service did not answer within 50 ms" });
    const port = await freePort();
    const down = await createHttpTwin({ url: `http://127.0.0.1:${port}`, timeoutMs: 5000 }).answer({
      id: "q",
      question: "x",
    });
    expect(down.error?.code).toBe("upstream_unavailable");
  });
});
