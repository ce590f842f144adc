/**
 * Native streaming (docs/llm-service.md): with --native-streaming on, eligible OpenAI streams are
 * written by the native engine's writer thread; the raw response bodies (HTTP chunk framing
 * included) must be byte-identical to --native-streaming off, and a client that leaves, stalls or
 * overflows the buffer must end the request cleanly.
 */
import { connect, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { nativeAddonBuilt } from "../../src/llm/llama-cpp/native/addon.js";
import type { RunningLlmServer } from "../../src/llm-server/server.js";
import { testEngineBackend } from "../../src/testing/engine-backend.js";
import { startOpenAiServer } from "./helpers.js";

// The native backend only (the node-llama-cpp project runs the rest of the suite on the other one).
const native = nativeAddonBuilt() && (testEngineBackend().backend ?? "native") === "native";

type Raw = { head: string; body: Buffer };

/** One HTTP/1.1 POST on a fresh connection; resolves with the raw body once the last chunk came. */
function rawPost(
  url: string,
  path: string,
  body: unknown,
  options: { socket?: (socket: Socket) => void } = {},
): Promise<Raw> {
  const { hostname, port } = new URL(url);
  const payload = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    const chunks: Buffer[] = [];
    socket.on("data", (chunk: Buffer) => {
      chunks.push(chunk);
      const all = Buffer.concat(chunks);
      const split = all.indexOf("\r\n\r\n");
      if (
        split >= 0 &&
        all
          .subarray(split + 4)
          .toString("latin1")
          .endsWith("0\r\n\r\n")
      ) {
        socket.destroy();
        resolve({ head: all.subarray(0, split).toString("latin1"), body: all.subarray(split + 4) });
      }
    });
    socket.on("error", reject);
    socket.write(
      `POST ${path} HTTP/1.1\r\nhost: ${hostname}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(payload)}\r\n\r\n${payload}`,
    );
    options.socket?.(socket);
  });
}

/** The response id and `created` vary per response: replaced by same-length constants. */
function normalized(body: Buffer): string {
  return body
    .toString("latin1")
    .replace(/"(chatcmpl|cmpl)-[0-9a-f-]{36}"/g, (match) => `"${"x".repeat(match.length - 2)}"`)
    .replace(/"created":\d+/g, (match) => `"created":${"0".repeat(match.length - 10)}`);
}

describe.skipIf(!native)("native streaming: byte-identical to the JavaScript path", () => {
  let on: RunningLlmServer;
  let off: RunningLlmServer;
  let tokens: (text: string) => Promise<number[]>;
  beforeAll(async () => {
    ({ server: on } = await startOpenAiServer({ nativeStreaming: "on", parallel: 4 }));
    ({ server: off } = await startOpenAiServer({ nativeStreaming: "off", parallel: 4 }));
    tokens = async (content) =>
      (
        (await (await fetch(`${on.url}/tokenize`, { method: "POST", body: JSON.stringify({ content }) })).json()) as {
          tokens: number[];
        }
      ).tokens;
  }, 120_000);
  afterAll(async () => {
    await on?.shutdown();
    await off?.shutdown();
  });

  async function same(path: string, body: Record<string, unknown>): Promise<string> {
    const [fast, slow] = await Promise.all([rawPost(on.url, path, body), rawPost(off.url, path, body)]);
    expect(normalized(fast.body)).toBe(normalized(slow.body));
    expect(fast.head).toMatch(/transfer-encoding: chunked/i);
    return fast.body.toString("utf8");
  }

  const messages = [{ role: "user", content: "Tell me about the twin" }];

  it("completions and chat, greedy and seeded, max_tokens and end of generation", async () => {
    for (const path of ["/v1/completions", "/v1/chat/completions"]) {
      const base = path.includes("chat") ? { messages } : { prompt: "The twin writes" };
      await same(path, { ...base, stream: true, max_tokens: 12, temperature: 0 });
      await same(path, { ...base, stream: true, max_tokens: 16, temperature: 0.9, seed: 7 });
      await same(path, { ...base, stream: true, max_tokens: 40, temperature: 0, ignore_eos: true });
      await same(path, {
        ...base,
        stream: true,
        max_tokens: 8,
        temperature: 0,
        stream_options: { include_usage: true },
      });
      // Up to the end-of-generation token (the tiny model ends within its budget on some seeds).
      for (const seed of [1, 2, 3]) await same(path, { ...base, stream: true, max_tokens: 60, temperature: 1, seed });
    }
  });

  it("stop sequences across token boundaries, early and late", async () => {
    const reference = await rawPost(off.url, "/v1/completions", {
      prompt: "The twin writes",
      stream: true,
      max_tokens: 24,
      temperature: 0,
      ignore_eos: true,
    });
    const text = reference.body
      .toString("utf8")
      .split("\n")
      .filter((line) => line.startsWith("data: {"))
      .map((line) => (JSON.parse(line.slice(6)) as { choices: Array<{ text: string }> }).choices[0]?.text ?? "")
      .join("");
    expect(text.length).toBeGreaterThan(6);
    const base = { prompt: "The twin writes", stream: true, max_tokens: 24, temperature: 0, ignore_eos: true };
    for (const stop of [text.slice(1, 4), text.slice(-5, -2), [text.slice(3, 5), "zzz"], "never there"]) {
      const body = await same("/v1/completions", { ...base, stop });
      expect(body).toContain(stop === "never there" ? '"finish_reason":"length"' : '"finish_reason":"stop"');
    }
  });

  it("chat template stop texts and a character split over byte tokens", async () => {
    const [first, second] = (await tokens("é")).slice(-2);
    const bias = { [String(first)]: 100, [String(second)]: 100 };
    for (const path of ["/v1/completions", "/v1/chat/completions"]) {
      const base = path.includes("chat") ? { messages } : { prompt: "The twin writes" };
      // The two byte tokens come in whatever order greedy picks: whole characters and invalid
      // sequences (U+FFFD) alike must read the same.
      const body = await same(path, { ...base, stream: true, max_tokens: 7, temperature: 0, logit_bias: bias });
      expect(body).toMatch(/é|\uFFFD/u);
      await same(path, {
        ...base,
        stream: true,
        max_tokens: 9,
        temperature: 0.8,
        seed: 3,
        logit_bias: { [String(first)]: 4 },
      });
    }
  });

  it("took the native path with on, never with off", async () => {
    const count = async (server: RunningLlmServer): Promise<number> => {
      const text = await (await fetch(`${server.url}/metrics`)).text();
      return Number(/^llm_twin_native_streams_total (\d+)/m.exec(text)?.[1] ?? "NaN");
    };
    expect(await count(on)).toBeGreaterThan(10);
    expect(await count(off)).toBe(0);
  });

  it("4 concurrent streams on 4 slots", async () => {
    const bodies = [0, 1, 2, 3].map((index) => ({
      prompt: `The twin writes ${index}`,
      stream: true,
      max_tokens: 20,
      temperature: 0.7,
      seed: index,
    }));
    const fast = await Promise.all(bodies.map((body) => rawPost(on.url, "/v1/completions", body)));
    const slow = await Promise.all(bodies.map((body) => rawPost(off.url, "/v1/completions", body)));
    for (const [index, response] of fast.entries()) {
      expect(normalized(response.body)).toBe(normalized(slow[index]?.body ?? Buffer.alloc(0)));
    }
  });
});

describe.skipIf(!native)("native streaming: clients that leave, stall or overflow", () => {
  let on: RunningLlmServer;
  let off: RunningLlmServer;
  let small: RunningLlmServer;
  beforeAll(async () => {
    ({ server: on } = await startOpenAiServer({ nativeStreaming: "on", parallel: 2 }));
    ({ server: off } = await startOpenAiServer({ nativeStreaming: "off", parallel: 2 }));
    // Smaller than one chunk: the first token's chunk is already past the limit.
    ({ server: small } = await startOpenAiServer({ nativeStreaming: "on", parallel: 1, nativeStreamBuffer: 64 }));
  }, 120_000);
  afterAll(async () => {
    await on?.shutdown();
    await off?.shutdown();
    await small?.shutdown();
  });

  const long = { prompt: "The twin writes", stream: true, max_tokens: 400, temperature: 0, ignore_eos: true };

  async function idle(server: RunningLlmServer): Promise<void> {
    const engine = await server.ready;
    await engine.idle();
    expect(engine.stats().sequencesInUse).toBe(0);
  }

  it("a client that disconnects mid-stream frees its slot; the server answers the next requests", async () => {
    const { hostname, port } = new URL(on.url);
    const payload = JSON.stringify(long);
    await new Promise<void>((resolve, reject) => {
      const socket = connect(Number(port), hostname);
      let seen = 0;
      socket.on("data", (chunk: Buffer) => {
        seen += chunk.length;
        // Gone after the head and a few chunks.
        if (seen > 1500) {
          socket.destroy();
          resolve();
        }
      });
      socket.on("error", reject);
      socket.write(
        `POST /v1/completions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${payload.length}\r\n\r\n${payload}`,
      );
    });
    await idle(on);
    const body = { prompt: "Hello", stream: true, max_tokens: 10, temperature: 0 };
    const [again, reference] = await Promise.all([
      rawPost(on.url, "/v1/completions", body),
      rawPost(off.url, "/v1/completions", body),
    ]);
    expect(normalized(again.body)).toBe(normalized(reference.body));
    expect((await fetch(`${on.url}/health`)).status).toBe(200);
  });

  it("a client that stops reading for a while then reads everything gets the complete, identical body", async () => {
    let paused: Socket | undefined;
    const stalled = rawPost(on.url, "/v1/completions", long, {
      socket: (socket) => {
        paused = socket;
        socket.pause();
      },
    });
    // The whole generation runs while the client reads nothing.
    await new Promise((resolve) => setTimeout(resolve, 50));
    await idle(on);
    paused?.resume();
    const [fast, slow] = await Promise.all([stalled, rawPost(off.url, "/v1/completions", long)]);
    expect(normalized(fast.body)).toBe(normalized(slow.body));
    expect(fast.body.toString()).toContain("data: [DONE]");
  });

  it("past the buffer limit the stream ends with stream_buffer_full and the slot is freed", async () => {
    const response = await rawPost(small.url, "/v1/completions", long);
    const events = response.body
      .toString()
      .split("\n")
      .filter((line) => line.startsWith("data: {"))
      .map((line) => JSON.parse(line.slice(6)) as { error?: { code?: string; message?: string } });
    const failure = events.at(-1)?.error;
    expect(failure?.message).toMatch(/--native-stream-buffer/);
    expect(JSON.stringify(failure)).toContain("stream_buffer_full");
    await idle(small);
    // The same (only) slot answers the next request.
    const next = await fetch(`${small.url}/v1/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ prompt: "Hi", max_tokens: 2 }),
    });
    expect(next.status).toBe(200);
  });
});
