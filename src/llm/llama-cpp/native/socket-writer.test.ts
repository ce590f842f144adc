/**
 * The native streaming writer thread (native/src/socket-writer.h) on real loopback TCP sockets:
 * bytes arrive complete and in order, a client that stops reading holds only its own job, the
 * buffer limit ends a job, a client that leaves reads as client_gone, and detach hands back what
 * the socket did not take.
 */
import { createRequire } from "node:module";
import { createConnection, createServer, type Server, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { nativeAddonBuilt, nativeAddonPath } from "./addon.js";

type WriterState = "open" | "client_gone" | "buffer_full" | "error";
type NativeWriter = {
  open(job: number, fd: number, maxBuffered: number): void;
  write(job: number, bytes: Buffer | string): WriterState;
  detach(job: number): { state: WriterState; unwritten: Buffer };
  close(): void;
};
type StreamAddon = { StreamSocketWriter: new () => NativeWriter };

const load = (): StreamAddon => createRequire(import.meta.url)(nativeAddonPath()) as StreamAddon;

type Pair = { server: Socket; client: Socket; fd: number };

const servers: Server[] = [];
const sockets: Socket[] = [];
afterEach(() => {
  for (const socket of sockets.splice(0)) socket.destroy();
  for (const server of servers.splice(0)) server.close();
});

/** A loopback connection: the server side's descriptor is what the writer gets. */
async function connection(): Promise<Pair> {
  const server = createServer();
  servers.push(server);
  const accepted = new Promise<Socket>((resolve) => server.once("connection", resolve));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no address");
  const client = createConnection(address.port, "127.0.0.1");
  const serverSide = await accepted;
  sockets.push(client, serverSide);
  const fd = (serverSide as unknown as { _handle: { fd: number } })._handle.fd;
  return { server: serverSide, client, fd };
}

function ended(writer: NativeWriter, job: number): { state: WriterState; unwritten: Buffer } {
  return writer.detach(job);
}

function collect(socket: Socket): { bytes: () => Buffer; length: () => number } {
  const chunks: Buffer[] = [];
  let length = 0;
  socket.on("data", (chunk: Buffer) => {
    chunks.push(chunk);
    length += chunk.length;
  });
  return { bytes: () => Buffer.concat(chunks), length: () => length };
}

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 5));
}

describe.skipIf(!nativeAddonBuilt())("native socket writer", () => {
  it("writes every byte in order; detach hands back exactly what was not written", async () => {
    const writer = new (load().StreamSocketWriter)();
    const { client, fd } = await connection();
    const received = collect(client);
    writer.open(1, fd, 1 << 20);
    let expected = "";
    for (let index = 0; index < 500; index += 1) {
      const chunk = `data: {"n":${index}}\n\n`;
      expected += chunk;
      expect(writer.write(1, chunk)).toBe("open");
    }
    const end = ended(writer, 1);
    await until(() => received.length() + end.unwritten.length >= expected.length);
    expect(Buffer.concat([received.bytes(), end.unwritten]).toString()).toBe(expected);
    expect(end.state).toBe("open");
    writer.close();
  });

  it("keeps writing other jobs while one client stops reading, then delivers that one complete", async () => {
    const writer = new (load().StreamSocketWriter)();
    const slow = await connection();
    const fast = await connection();
    slow.client.pause();
    const slowReceived = collect(slow.client);
    slow.client.pause();
    const fastReceived = collect(fast.client);
    writer.open(1, slow.fd, 64 << 20);
    writer.open(2, fast.fd, 1 << 20);
    const block = Buffer.alloc(64 * 1024, "x");
    let slowExpected = 0;
    // Far more than the socket buffers hold: the slow job's writes must wait for POLLOUT.
    for (let index = 0; index < 160; index += 1) {
      expect(writer.write(1, block)).toBe("open");
      slowExpected += block.length;
    }
    for (let index = 0; index < 100; index += 1) expect(writer.write(2, `token ${index}\n`)).toBe("open");
    await until(() => fastReceived.length() >= 100 * "token 0\n".length);
    expect(fastReceived.bytes().toString().split("\n")[99]).toBe("token 99");
    expect(slowReceived.length()).toBe(0);
    slow.client.resume();
    await until(() => slowReceived.length() >= slowExpected);
    const end = ended(writer, 1);
    expect(end.unwritten.length).toBe(0);
    expect(slowReceived.bytes().equals(Buffer.alloc(slowExpected, "x"))).toBe(true);
    ended(writer, 2);
    writer.close();
  });

  it("ends a job past its buffer limit and hands back the unwritten bytes at the end", async () => {
    const writer = new (load().StreamSocketWriter)();
    const { client, fd } = await connection();
    client.pause();
    writer.open(1, fd, 256 * 1024);
    const block = Buffer.alloc(32 * 1024, "y");
    let state: WriterState = "open";
    let written = 0;
    for (let index = 0; index < 1000 && state === "open"; index += 1) {
      state = writer.write(1, block);
      if (state === "open") written += block.length;
      // Lets the writer thread fill the socket first.
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    expect(state).toBe("buffer_full");
    const end = ended(writer, 1);
    expect(end.state).toBe("buffer_full");
    expect(end.unwritten.length).toBeGreaterThan(0);
    expect(end.unwritten.length).toBeLessThanOrEqual(256 * 1024);
    const received = collect(client);
    client.resume();
    await until(() => received.length() + end.unwritten.length >= written);
    expect(received.length() + end.unwritten.length).toBe(written);
    writer.close();
  });

  it("reads a client that left as client_gone", async () => {
    const writer = new (load().StreamSocketWriter)();
    const { client, server, fd } = await connection();
    writer.open(1, fd, 1 << 20);
    expect(writer.write(1, "first\n")).toBe("open");
    client.destroy();
    // The server side closes its own descriptor too: the writer's copy must stay safe to use.
    server.destroy();
    let state: WriterState = "open";
    for (let index = 0; index < 2000 && state === "open"; index += 1) {
      state = writer.write(1, "more\n");
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    expect(state).toBe("client_gone");
    expect(ended(writer, 1).state).toBe("client_gone");
    writer.close();
  });

  it("refuses a job id already streaming", async () => {
    const writer = new (load().StreamSocketWriter)();
    const { fd } = await connection();
    writer.open(1, fd, 1024);
    expect(() => writer.open(1, fd, 1024)).toThrow(/already streaming/);
    ended(writer, 1);
    writer.close();
  });
});
