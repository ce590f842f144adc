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
