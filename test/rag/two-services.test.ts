/**
 * Two services over HTTP, as in production: a real `llm-twin serve-llm` process (tiny generated
 * GGUF) and `llm-twin serve-rag` talking to it with the TGI client, over the real LLM Twin corpus
 * in LanceDB. Also: API keys, the LLM going down (503 within the timeout) and coming back
 * (recovery without restart), and `llm-twin traces`.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tinyModelPath } from "../../src/gguf/index.js";
import type { RagResponse } from "../../src/rag/types.js";
import { type CliProcess, freePort, spawnCli, spawnServeLlm, stop, waitForStatus } from "./processes.js";
import { ARTICLES, type IngestedCorpus, ingestCorpus, parseSseStrict } from "./support.js";

const API_KEY = "e2e-key";
/** serve-llm's own key: serve-rag must send it (--llm-api-key) on every call. */
const LLM_KEY = "llm-side-key";
const LLM_TIMEOUT_MS = 4000;

describe.skipIf(ARTICLES === undefined)("RAG service and LLM service as two processes", () => {
  let corpus: IngestedCorpus;
  let modelPath: string;
  let llmPort: number;
  let llm: CliProcess | undefined;
  let rag: CliProcess | undefined;
  let ragUrl: string;

  const startLlm = async () => {
    llm = spawnServeLlm({ model: modelPath, port: llmPort, args: ["--api-keys", LLM_KEY] });
    await waitForStatus(`http://127.0.0.1:${llmPort}/health`, 200, llm);
  };

  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${ragUrl}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${API_KEY}`, ...headers },
      body: JSON.stringify(body),
    });

  beforeAll(async () => {
    corpus = await ingestCorpus(ARTICLES as string);
    modelPath = await tinyModelPath("chat");
    llmPort = await freePort();
    const ragPort = await freePort();
    ragUrl = `http://127.0.0.1:${ragPort}`;
    await startLlm();
    rag = spawnCli(
      [
        "serve-rag",
        "--llm-url",
        `http://127.0.0.1:${llmPort}`,
        "--store",
        corpus.storeUri,
        "--port",
        String(ragPort),
        "--llm-timeout-ms",
        String(LLM_TIMEOUT_MS),
        "--ready-timeout-ms",
        "1000",
        "--context-tokens",
        "150",
        "--log-level",
        "warn",
        "--llm-api-key",
        LLM_KEY,
      ],
      { LLM_TWIN_API_KEYS: `other-key,${API_KEY}`, LLM_TWIN_RATE_LIMIT: "1000" },
    );
    await waitForStatus(`${ragUrl}/ready`, 200, rag);
  });

  afterAll(async () => {
    await stop(rag);
    await stop(llm);
    await corpus?.cleanup();
  });

  it("reaches a keyed LLM service with --llm-api-key (the LLM service refuses calls without it)", async () => {
    const direct = await fetch(`http://127.0.0.1:${llmPort}/generate`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ inputs: "Hi", parameters: { max_new_tokens: 1 } }),
    });
    expect(direct.status).toBe(401);
    const ready = await fetch(`${ragUrl}/ready`);
    expect(ready.status).toBe(200);
  });

  it("answers /rag through the LLM service's TGI API", async () => {
    const response = await post("/rag", {
      query: "My name is Paul Iusztin. Draft a LinkedIn post about RAG systems.",
      maxNewTokens: 12,
    });
    expect(response.status).toBe(200);
    const body = (await response.json()) as RagResponse;
    expect(typeof body.answer).toBe("string");
    // Only the sources that reached the prompt are listed (the tiny model's tokenizer makes them long).
    expect(body.sources.length).toBeLessThanOrEqual(3);
    expect(body.sources.every((source) => source.author.fullName === "Paul Iusztin")).toBe(true);
    expect(body.usage.completionTokens).toBeGreaterThan(0);
    expect(body.timings.generationMs).toBeGreaterThan(0);
  });

  it("streams SSE through the LLM service", async () => {
    const response = await post(
      "/rag",
      { query: "Write about LLM fine-tuning", maxNewTokens: 8 },
      { accept: "text/event-stream" },
    );
    expect(response.status).toBe(200);
    const events = parseSseStrict(await response.text());
    expect(events[0]?.event).toBe("sources");
    expect(events.at(-1)?.event).toBe("done");
    expect(events.slice(1, -1).every((event) => event.event === "token")).toBe(true);
  });

  it("needs the API key except on health and readiness", async () => {
    const anonymous = await fetch(`${ragUrl}/rag`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ query: "x" }),
    });
    expect(anonymous.status).toBe(401);
    expect(((await anonymous.json()) as { error: { code: string } }).error.code).toBe("unauthorized");
    expect((await fetch(`${ragUrl}/health`)).status).toBe(200);
    expect((await fetch(`${ragUrl}/ready`)).status).toBe(200);
  });

  it("prints the traces with `llm-twin traces`", async () => {
    const cli = spawnCli(["traces", "--url", ragUrl, "--json", "--limit", "2"], { LLM_TWIN_API_KEY: API_KEY });
    expect(await cli.exited).toBe(0);
    const traces = JSON.parse(cli.output()) as { name: string; spans: { name: string }[] }[];
    expect(traces).toHaveLength(2);
    expect(traces.every((trace) => trace.spans.some((span) => span.name === "search"))).toBe(true);
  });

  it("answers 503 within the timeout while the LLM is down, and recovers without a restart", async () => {
    await stop(llm, "SIGKILL");
    const started = Date.now();
    const down = await post("/rag", { query: "Write about RAG", maxNewTokens: 4 });
    expect(down.status).toBe(503);
    const body = (await down.json()) as { error: { code: string; message: string; requestId: string } };
    expect(body.error.code).toBe("upstream_unavailable");
    expect(body.error.requestId).toBe(down.headers.get("x-request-id"));
    expect(Date.now() - started).toBeLessThan(LLM_TIMEOUT_MS * 2);
    const ready = await fetch(`${ragUrl}/ready`);
    expect(ready.status).toBe(503);
    expect(((await ready.json()) as { reasons: string[] }).reasons.join(" ")).toContain("llm");

    await startLlm();
    await waitForStatus(`${ragUrl}/ready`, 200, rag as CliProcess, 30_000);
    const back = await post("/rag", { query: "Write about RAG", maxNewTokens: 4 });
    expect(back.status).toBe(200);
  });
});
