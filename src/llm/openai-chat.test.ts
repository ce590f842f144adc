import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { postJson } from "./openai-chat.js";

describe("postJson", () => {
  const seen: { auth: string | undefined; body: string }[] = [];
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (part) => {
      body += part;
    });
    req.on("end", () => {
      seen.push({ auth: req.headers.authorization, body });
      if (req.url === "/slow") return; // never answers
      res.end("{}");
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

  it("sends the body as JSON with the bearer key", async () => {
    const sent = await postJson(`${base}/ok`, { apiKey: "k", body: { a: 1 }, timeoutMs: 5000 });
    expect(sent.ok).toBe(true);
    expect(seen.at(-1)).toEqual({ auth: "Bearer k", body: '{"a":1}' });
  });

  it("tells a timeout from a stop by the caller", async () => {
    const timedOut = await postJson(`${base}/slow`, { body: {}, timeoutMs: 50 });
    expect(timedOut).toMatchObject({ ok: false, timedOut: true, aborted: false });
    const controller = new AbortController();
    const pending = postJson(`${base}/slow`, { body: {}, timeoutMs: 5000, signal: controller.signal });
    setTimeout(() => controller.abort(), 20);
    expect(await pending).toMatchObject({ ok: false, timedOut: false, aborted: true });
  });
});
