/** Helpers shared by the LLM client tests. */
import { afterEach } from "vitest";
import type { StreamPart } from "../../src/llm/port.js";
import { type FakeHandler, type FakeServer, startFakeServer } from "./fake-server.js";

/** Every part of a stream, in order. */
export async function collect(parts: AsyncIterable<StreamPart>): Promise<StreamPart[]> {
  const result: StreamPart[] = [];
  for await (const part of parts) result.push(part);
  return result;
}

/** Returns a starter of fake servers; every server it started is closed after each test. */
export function useFakeServers(): (handler: FakeHandler) => Promise<FakeServer> {
  const servers: FakeServer[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((server) => server.close()));
  });
  return async (handler) => {
    const server = await startFakeServer(handler);
    servers.push(server);
    return server;
  };
}
