/**
 * startSse writes each event straight to the socket, framed as Node frames a response.write: the
 * bytes on the wire must be those of the plain response.write path, over a real socket (inject()
 * has none), for HTTP/1.1 (chunked), HTTP/1.0 (unframed) and pipelined requests (the second
 * response waits behind the first and takes the plain path). The head leaves with the first event,
 * and the events of one turn leave together with the end of the response.
 */
import { connect } from "node:net";
import Fastify, { type FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSse } from "./client-connection.js";

const EVENTS = [
  '{"text":"plain"}',
  '{"text":"é ñ 中文 😀 \\u2028"}', // multi-byte: the chunk size counts bytes, not characters
  "x".repeat(70_000), // more than a socket write usually takes at once
  "",
  "[DONE]",
];

let app: FastifyInstance;
let port: number;
const handOvers: Array<{ fd: number; chunked: boolean } | undefined> = [];

beforeAll(async () => {
  app = Fastify();
  app.post("/sse", async (_request, reply) => {
    const sse = startSse(reply, "data: ");
    for (const event of EVENTS) await sse.send(event);
    sse.end();
    return reply;
  });
  // The prompt is being decoded, then the first token; the last token, [DONE] and the end in one turn.
  app.post("/slow", async (_request, reply) => {
    const sse = startSse(reply, "data: ");
    await new Promise((resolve) => setTimeout(resolve, 50));
    await sse.send('{"text":"first"}');
    await new Promise((resolve) => setTimeout(resolve, 50));
    sse.batch();
    await sse.send('{"text":"last"}');
    await sse.send("[DONE]");
    sse.end();
    return reply;
  });
  // Native streaming's hand-over: the head goes out, the socket's descriptor is handed over.
  app.post("/handover", async (_request, reply) => {
    const sse = startSse(reply, "data: ");
    const handed = sse.handOver();
    handOvers.push(handed === undefined ? undefined : { fd: handed.fd, chunked: handed.chunked });
    handed?.writeRest(Buffer.from(`${handed.chunked ? "f\r\n" : ""}data: {"a":1}\n\n${handed.chunked ? "\r\n" : ""}`));
    await sse.send("[DONE]");
    sse.end();
    return reply;
  });
  // What startSse wrote before it framed events itself: response.write per event.
  app.post("/reference", async (_request, reply) => {
    reply.hijack();
    const raw = reply.raw;
    raw.writeHead(200, {
      "content-type": "text/event-stream",
      "cache-control": "no-cache",
      connection: "keep-alive",
      "x-accel-buffering": "no",
    });
    raw.flushHeaders();
    for (const event of EVENTS) raw.write(`data: ${event}\n\n`);
    raw.end();
    return reply;
  });
  await app.listen({ host: "127.0.0.1", port: 0 });
  const address = app.server.address();
  port = typeof address === "object" && address !== null ? address.port : 0;
});

afterAll(async () => {
  await app?.close();
});

/** Sends raw request bytes; resolves with everything received until `complete` says so or the server closes. */
function exchange(request: string, complete: (received: string) => boolean, chunks: Buffer[] = []): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    const received = (): string => Buffer.concat(chunks).toString("latin1");
    socket.on("data", (chunk) => {
      chunks.push(chunk);
      if (complete(received())) {
        socket.destroy();
        resolve(received());
      }
    });
    socket.on("end", () => resolve(received()));
    socket.on("error", reject);
    socket.write(request);
  });
}

const post = (path: string, version: string) =>
  `POST ${path} HTTP/${version}\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}`;
const responses = (count: number) => (received: string) => received.split("\r\n0\r\n\r\n").length > count;
const withoutDate = (text: string) => text.replace(/\r\ndate: [^\r]*/gi, "\r\ndate: -");

describe("startSse on a real socket", () => {
  it("writes the bytes response.write would, chunked under HTTP/1.1", async () => {
    const ours = await exchange(post("/sse", "1.1"), responses(1));
    const reference = await exchange(post("/reference", "1.1"), responses(1));
    expect(ours).toMatch(/transfer-encoding: chunked/i);
    expect(withoutDate(ours)).toBe(withoutDate(reference));
  });

  it("writes the same unframed body under HTTP/1.0", async () => {
    const ours = await exchange(post("/sse", "1.0"), () => false);
    const reference = await exchange(post("/reference", "1.0"), () => false);
    expect(ours).not.toMatch(/transfer-encoding/i);
    expect(ours.endsWith("data: [DONE]\n\n")).toBe(true);
    expect(withoutDate(ours)).toBe(withoutDate(reference));
  });

  it("keeps pipelined responses whole and in order", async () => {
    const ours = await exchange(post("/sse", "1.1") + post("/sse", "1.1"), responses(2));
    const reference = await exchange(post("/reference", "1.1") + post("/reference", "1.1"), responses(2));
    expect(withoutDate(ours)).toBe(withoutDate(reference));
    expect(ours.split("HTTP/1.1 200 OK")).toHaveLength(3);
  });

  it("sends the head with the first event, and a batch with the end, in one write each", async () => {
    const chunks: Buffer[] = [];
    await exchange(post("/slow", "1.1"), responses(1), chunks);
    const reads = chunks.map((chunk) => chunk.toString("latin1"));
    expect(reads).toHaveLength(2);
    const frame = (event: string) => `${Buffer.byteLength(event).toString(16)}\r\n${event}\r\n`;
    expect(reads[0]).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(reads[0]?.endsWith(`\r\n\r\n${frame('data: {"text":"first"}\n\n')}`)).toBe(true);
    expect(reads[1]).toBe(`${frame('data: {"text":"last"}\n\n')}${frame("data: [DONE]\n\n")}0\r\n\r\n`);
  });
});

describe("handOver (native streaming)", () => {
  it("writes the head and hands over the plain TCP socket's descriptor; bytes written back come before the rest", async () => {
    const received = await exchange(post("/handover", "1.1"), responses(1));
    const handed = handOvers.at(-1);
    expect(handed?.chunked).toBe(true);
    expect(handed?.fd).toBeGreaterThan(2);
    const body = received.slice(received.indexOf("\r\n\r\n") + 4);
    expect(body).toBe('f\r\ndata: {"a":1}\n\n\r\ne\r\ndata: [DONE]\n\n\r\n0\r\n\r\n');
  });

  it("says unframed under HTTP/1.0", async () => {
    const received = await exchange(post("/handover", "1.0"), () => false);
    expect(handOvers.at(-1)?.chunked).toBe(false);
    expect(received.endsWith('data: {"a":1}\n\ndata: [DONE]\n\n')).toBe(true);
  });
});
