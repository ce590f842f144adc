import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AppError } from "../../errors/index.js";
import { createTracer } from "../../observability/tracing/index.js";
import { resolveRagConfig } from "../../rag/index.js";
import {
  type FakeLanguageModel,
  fakeEmbedder,
  fakeLanguageModel,
  fakeStore,
  sampleChunks,
} from "../../rag/testing/fakes.js";
import { freePort } from "../../testing/free-port.js";
import { createHttpTwin, createInProcessTwin } from "./twin.js";

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

  it("reports a timeout as an error, not a throw", async () => {
    const slow = await createHttpTwin({ url: `${base}/slow`, timeoutMs: 50 }).answer({ id: "q", question: "x" });
    expect(slow.error).toMatchObject({ code: "timeout", message: "the RAG service did not answer within 50 ms" });
  });

  it("stops the run when the first answer cannot reach the service; after an answer, a lost service is an error", async () => {
    const port = await freePort();
    await expect(
      createHttpTwin({ url: `http://127.0.0.1:${port}`, timeoutMs: 5000 }).answer({ id: "q", question: "x" }),
    ).rejects.toMatchObject({
      code: "upstream_unavailable",
      message: `cannot reach the RAG service at http://127.0.0.1:${port}/rag (connection refused): start it (llm-twin serve or serve-rag) or point --rag-url (LLM_TWIN_EVAL_GENERATION_RAG_URL) at it`,
    });
    const once = createServer((req, res) => {
      req.resume();
      req.on("end", () => res.end(JSON.stringify({ answer: "hi", sources: [] })));
    });
    await new Promise<void>((resolve) => once.listen(0, "127.0.0.1", resolve));
    const twin = createHttpTwin({ url: `http://127.0.0.1:${(once.address() as AddressInfo).port}`, timeoutMs: 5000 });
    expect((await twin.answer({ id: "q1", question: "x" })).answer).toBe("hi");
    once.closeAllConnections();
    await new Promise((resolve) => once.close(resolve));
    expect((await twin.answer({ id: "q2", question: "x" })).error?.code).toBe("upstream_unavailable");
  });

  it("stops the run when the service refuses the key (401)", async () => {
    const refusing = createServer((req, res) => {
      req.resume();
      req.on("end", () => {
        res.statusCode = 401;
        res.end(JSON.stringify({ error: { code: "unauthorized", message: "missing key" } }));
      });
    });
    await new Promise<void>((resolve) => refusing.listen(0, "127.0.0.1", resolve));
    try {
      const url = `http://127.0.0.1:${(refusing.address() as AddressInfo).port}`;
      await expect(createHttpTwin({ url, timeoutMs: 5000 }).answer({ id: "q", question: "x" })).rejects.toMatchObject({
        code: "unauthorized",
        message: `the RAG service at ${url}/rag refused the credentials (HTTP 401): give the right key with --rag-api-key (LLM_TWIN_RAG_API_KEY), or check --rag-url (LLM_TWIN_EVAL_GENERATION_RAG_URL)`,
      });
    } finally {
      refusing.closeAllConnections();
      await new Promise((resolve) => refusing.close(resolve));
    }
  });
});

describe("createInProcessTwin with a remote LLM", () => {
  function twinWith(llm: FakeLanguageModel, hint?: string) {
    const embedder = fakeEmbedder();
    const deps = { store: fakeStore(sampleChunks(), embedder), embedder, llm, config: resolveRagConfig({}) };
    return createInProcessTwin(deps, createTracer([]), "in process", hint);
  }
  const down = () => new AppError("upstream_unavailable", "The TGI server is unreachable (ECONNREFUSED)");

  it("stops the run when the first answer finds the LLM unreachable, with the hint", async () => {
    const llm = fakeLanguageModel();
    llm.failWith = down();
    await expect(twinWith(llm, "point --llm-url at it").answer({ id: "q", question: "x?" })).rejects.toMatchObject({
      code: "upstream_unavailable",
      message: "the first answer failed: The TGI server is unreachable (ECONNREFUSED); point --llm-url at it",
    });
  });

  it("keeps a failed answer as an error once an answer succeeded, or without a hint (local model)", async () => {
    const llm = fakeLanguageModel();
    const twin = twinWith(llm, "point --llm-url at it");
    expect((await twin.answer({ id: "q1", question: "x?" })).error).toBeUndefined();
    llm.failWith = down();
    expect((await twin.answer({ id: "q2", question: "x?" })).error?.code).toBe("upstream_unavailable");
    expect((await twinWith(llm).answer({ id: "q3", question: "x?" })).error?.code).toBe("upstream_unavailable");
  });
});
